using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace S2CloudMask.Deploy.Tests.Support;

/// <summary>
/// The published service started as the image's ENTRYPOINT starts it: <c>dotnet S2CloudMask.Api.dll</c>
/// in the app directory, configured only through environment variables, as a non-root user
/// (uid 65534 via setpriv) when the tests run as root. Killed on dispose if still running.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    public const int NobodyId = 65534;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private ServiceProcess(Process process, int port, string runAs)
    {
        _process = process;
        Port = port;
        RunAs = runAs;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(3) };
    }

    public int Port { get; }

    /// <summary>Who the process runs as, for the test output.</summary>
    public string RunAs { get; }

    public HttpClient Client { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>stdout and stderr so far, one entry per line.</summary>
    public string Log => string.Join('\n', _lines);

    public static bool IsRoot => Environment.UserName == "root" || GetUid() == 0;

    /// <summary>Starts the service and waits until /healthz answers (or fails with its log).</summary>
    public static async Task<ServiceProcess> StartAsync(string appDirectory, string homeDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var port = FreePort();
        var dotnet = DotnetHost();
        var setpriv = Tools.Which("setpriv");
        ProcessStartInfo info;
        string runAs;
        if (IsRoot && setpriv is not null)
        {
            // setpriv execs: the pid is dotnet's own, so SIGTERM reaches the service directly.
            info = new ProcessStartInfo(setpriv);
            foreach (var a in new[] { $"--reuid={NobodyId}", $"--regid={NobodyId}", "--clear-groups", "--", dotnet, "S2CloudMask.Api.dll" })
            {
                info.ArgumentList.Add(a);
            }

            runAs = $"uid {NobodyId} (nobody) via setpriv";
        }
        else
        {
            info = new ProcessStartInfo(dotnet);
            info.ArgumentList.Add("S2CloudMask.Api.dll");
            runAs = IsRoot ? "root (setpriv not found: could not drop privileges)" : $"the current user ({Environment.UserName})";
        }

        info.WorkingDirectory = appDirectory;
        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;

        // A clean environment like the container's: nothing from the test host leaks in.
        foreach (var key in info.Environment.Keys.ToList())
        {
            if (key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) || key.StartsWith("DOTNET_", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.Contains("__", StringComparison.Ordinal)
                || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) || key.StartsWith("COREHOST", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(key);
            }
        }

        info.Environment["HOME"] = homeDirectory;
        info.Environment["ASPNETCORE_HTTP_PORTS"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, port, runAs);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { service._lines.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { service._lines.Enqueue("stderr: " + e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await service.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(90));
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }

        return service;
    }

    /// <summary>Sends SIGTERM, as the kubelet (after preStop) and `docker stop` do.</summary>
    public async Task TerminateAsync()
    {
        var result = await Tools.RunAsync("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(30));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -TERM {Pid} failed: {result.Output}");
        }
    }

    /// <summary>Waits for the process to exit; false when it is still running after the timeout.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            _process.WaitForExit(); // drains the output readers
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await WaitForExitAsync(TimeSpan.FromSeconds(15));
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already gone
        }

        _process.Dispose();
    }

    private async Task WaitUntilAnsweringAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var probe = new HttpClient { BaseAddress = Client.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit();
                throw new InvalidOperationException($"the service exited with code {_process.ExitCode} before answering /healthz (run as {RunAs}):\n{Log}");
            }

            try
            {
                using var response = await probe.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"the service did not answer /healthz on port {Port} within {timeout} (run as {RunAs}):\n{Log}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The dotnet host running the tests (DOTNET_HOST_PATH under `dotnet test`), else dotnet on PATH.</summary>
    public static string DotnetHost()
    {
        var fromHost = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromHost) && File.Exists(fromHost))
        {
            return fromHost;
        }

        return Tools.Which("dotnet") ?? throw new InvalidOperationException("dotnet is not on PATH");
    }

    private static int GetUid()
    {
        try
        {
            // /proc/self/status: "Uid:\treal\teffective\t..."
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            return line is null ? -1 : int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }
}
