using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace S2CloudMask.Api.Tests.Geomedians;

/// <summary>
/// A throw-away Debian <c>redis-server</c> on 127.0.0.1 and a free port, without persistence
/// (<c>--save '' --appendonly no</c>, its folder a temporary one). It runs under a small shell
/// that kills it when the test process's end of its stdin closes, so even a test host killed
/// outright leaves no server behind; <see cref="Dispose"/> kills both at once.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private static readonly string[] Candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "s2cloudmask-tests", "redis-" + Guid.NewGuid().ToString("N"));
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>Starts a server on a free port (or on <paramref name="port"/>) and waits until it answers PING.</summary>
    public RedisServer(int? port = null)
    {
        Port = port ?? FreePort();
        Start();
    }

    /// <summary>The redis-server executable, or null when it is not installed.</summary>
    public static string? Executable { get; } = Candidates.FirstOrDefault(File.Exists) ?? FromPath();

    public static bool Installed => Executable is not null;

    public static bool RequiredByCi => SharedData.RequiredByCi;

    public static string SkipReason =>
        $"needs Debian's redis-server (looked for {string.Join(", ", Candidates)} and PATH); scripts/setup.sh redis-server installs it";

    public int Port { get; }

    /// <summary>Cache:Redis for this server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public bool Running => _process is { HasExited: false };

    /// <summary>A port nothing listens on (at the time of asking).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Kills the server (as a crash would) and waits until it is gone.</summary>
    public void Stop()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    public void Dispose()
    {
        Stop();
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Starts (again, after <see cref="Stop"/>) on the same port.</summary>
    public void Start()
    {
        if (Executable is null)
        {
            throw new InvalidOperationException(SkipReason + (RequiredByCi ? " (CI=true: not skipped)" : ""));
        }

        Stop();
        Directory.CreateDirectory(_directory);
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };

        // sh -c SCRIPT NAME ARGS...: redis-server gets ARGS; when our stdin closes, it is killed.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("\"$0\" \"$@\" & pid=$!; trap 'kill -9 $pid 2>/dev/null' EXIT INT TERM; cat >/dev/null; kill -9 $pid 2>/dev/null");
        foreach (var arg in new[]
        {
            Executable, "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", _directory, "--daemonize", "no", "--loglevel", "warning",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start redis-server");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;

        var clock = Stopwatch.StartNew();
        while (!Answers())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(20) || process.HasExited)
            {
                Stop();
                string output;
                lock (_output)
                {
                    output = _output.ToString();
                }

                throw new InvalidOperationException($"redis-server on port {Port} did not answer PING within 20 s: {output}");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>Whether the server answers PING now.</summary>
    public bool Answers()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            client.ReceiveTimeout = 1000;
            var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            var read = stream.Read(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => Stop();

    private static string? FromPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, "redis-server"))
        .FirstOrDefault(File.Exists);
}

/// <summary>One server for a test class, started on first use and killed when the class is done.</summary>
public sealed class RedisServerFixture : IDisposable
{
    private readonly Lazy<RedisServer> _server = new(() => new RedisServer());

    public RedisServer Server => _server.Value;

    public void Dispose()
    {
        if (_server.IsValueCreated)
        {
            _server.Value.Dispose();
        }
    }
}

/// <summary>
/// A fact that needs redis-server (and, with <c>shared: true</c>, ../shared): skipped with the
/// reason when missing, unless CI=true, where it runs and fails.
/// </summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute(bool shared = false) => Skip = RedisSkip.Reason(shared);
}

/// <summary>A theory that needs redis-server; see <see cref="RedisFactAttribute"/>.</summary>
public sealed class RedisTheoryAttribute : TheoryAttribute
{
    public RedisTheoryAttribute(bool shared = false) => Skip = RedisSkip.Reason(shared);
}

internal static class RedisSkip
{
    public static string? Reason(bool shared)
    {
        if (SharedData.RequiredByCi)
        {
            return null;
        }

        if (!RedisServer.Installed)
        {
            return RedisServer.SkipReason;
        }

        return shared && !SharedData.Available ? SharedData.SkipReason : null;
    }
}
