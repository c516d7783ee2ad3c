using System.Diagnostics;
using System.Text;

namespace S2CloudMask.Deploy.Tests.Support;

public sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;
}

/// <summary>Finds and runs external programs (yamllint, python3, dotnet) with a time limit.</summary>
public static class Tools
{
    /// <summary>Debian's python, where python3-yaml and python3-jsonschema install (not a pyenv shim).</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> PythonProblem = new(ProbePython);

    /// <summary>The full path of an executable on PATH, or null.</summary>
    public static string? Which(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(name) ? name : null;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Null when /usr/bin/python3 imports yaml and jsonschema, else what is missing.</summary>
    public static string? PythonModulesProblem => PythonProblem.Value;

    /// <summary>Fails with the install hint when a tool is missing (only reached when not skipped, i.e. under CI=true).</summary>
    public static string Require(string tool, string package)
    {
        return Which(tool) ?? throw new InvalidOperationException(
            $"'{tool}' is not installed (Debian package {package}): scripts/setup.sh must install it (apt-get install -y {package})");
    }

    public static void RequirePythonModules()
    {
        if (PythonModulesProblem is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
    }

    public static async Task<ToolResult> RunAsync(
        string file,
        IEnumerable<string> args,
        TimeSpan timeout,
        string? workingDirectory = null,
        string? stdin = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                if (value is null)
                {
                    info.Environment.Remove(key);
                }
                else
                {
                    info.Environment[key] = value;
                }
            }
        }

        using var process = new Process { StartInfo = info };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)} did not finish in {timeout}:\n{stdout}\n{stderr}");
        }

        process.WaitForExit(); // drains the asynchronous readers
        string o, e2;
        lock (stdout)
        {
            o = stdout.ToString();
        }

        lock (stderr)
        {
            e2 = stderr.ToString();
        }

        return new ToolResult(process.ExitCode, o, e2);
    }

    private static string? ProbePython()
    {
        if (!File.Exists(Python))
        {
            return $"{Python} is missing: apt-get install -y python3 python3-yaml python3-jsonschema (scripts/setup.sh must install them)";
        }

        try
        {
            var result = RunAsync(Python, ["-c", "import yaml, jsonschema"], TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
            return result.ExitCode == 0
                ? null
                : $"{Python} cannot import yaml and jsonschema ({result.Stderr.Trim()}): apt-get install -y python3-yaml python3-jsonschema (scripts/setup.sh must install them)";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException)
        {
            return $"{Python} could not be run: {e.Message}";
        }
    }
}

/// <summary>A fact that needs an external tool: skipped when it is missing, unless CI=true (then it runs and fails naming the package).</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(string tool, string package)
    {
        if (Tools.Which(tool) is null && !Repo.RequiredByCi)
        {
            Skip = $"needs '{tool}' (Debian package {package}), not installed";
        }
    }
}

/// <summary>A fact that needs /usr/bin/python3 with python3-yaml and python3-jsonschema; see <see cref="ToolFactAttribute"/>.</summary>
public sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        if (Tools.PythonModulesProblem is { } problem && !Repo.RequiredByCi)
        {
            Skip = "needs " + problem;
        }
    }
}

/// <summary>A theory that needs /usr/bin/python3 with python3-yaml and python3-jsonschema.</summary>
public sealed class PythonTheoryAttribute : TheoryAttribute
{
    public PythonTheoryAttribute()
    {
        if (Tools.PythonModulesProblem is { } problem && !Repo.RequiredByCi)
        {
            Skip = "needs " + problem;
        }
    }
}
