using System.Diagnostics;

namespace S2CloudMask.Train.Tests.Support;

/// <summary>
/// A fact that runs the Python export tool on the published pickles: skipped, with the reason,
/// when no python3 with joblib, scikit-learn and XGBoost is found or ../shared is absent. It is
/// optional everywhere, CI included: the service itself never needs Python.
/// </summary>
public sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        if (!SharedData.Available)
        {
            Skip = SharedData.SkipReason;
        }
        else if (Python.Missing is { } why)
        {
            Skip = why;
        }
    }
}

public static class Python
{
    private static readonly Lazy<string?> Probe = new(ProbeOnce);

    /// <summary>Debian's interpreter where it exists (its python3-sklearn etc.), else python3 on PATH.</summary>
    public static string Executable { get; } = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Why Python cannot be used, or null when it can.</summary>
    public static string? Missing => Probe.Value;

    public static (int ExitCode, string Output) Run(params string[] args)
    {
        var psi = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {Executable}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }

    private static string? ProbeOnce()
    {
        try
        {
            var (code, output) = Run("-c", "import joblib, sklearn, xgboost, numpy");
            return code == 0 ? null : $"{Executable} cannot import joblib, sklearn, xgboost, numpy (optional): {output.Trim().Split('\n').LastOrDefault()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"no {Executable} ({e.Message}); the Python export test is optional";
        }
    }
}
