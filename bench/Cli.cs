using System.Globalization;

namespace S2CloudMask.Bench;

/// <summary>Options of the form <c>--name value</c> and flags <c>--name</c>, plus positional arguments.</summary>
internal sealed class Cli
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Cli(IEnumerable<string> args, params string[] flags)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                Positional.Add(a);
                continue;
            }

            var eq = a.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                _options[a[..eq]] = a[(eq + 1)..];
            }
            else if (flags.Contains(a) || i + 1 >= list.Count)
            {
                _options[a] = null;
            }
            else
            {
                _options[a] = list[++i];
            }
        }
    }

    public List<string> Positional { get; } = [];

    public bool Flag(string name)
    {
        _used.Add(name);
        return _options.ContainsKey(name);
    }

    public double Double(string name, double fallback)
    {
        _used.Add(name);
        if (!_options.TryGetValue(name, out var v))
        {
            return fallback;
        }

        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0
            ? d
            : throw new BenchException($"{name} needs a positive number, got '{v}'");
    }

    public int Int(string name, int fallback) => (int)Math.Round(Double(name, fallback));

    /// <summary>An option that takes one of <paramref name="choices"/>, the first when it is not given.</summary>
    public string Choice(string name, params string[] choices)
    {
        _used.Add(name);
        if (!_options.TryGetValue(name, out var v))
        {
            return choices[0];
        }

        return v is not null && choices.Contains(v)
            ? v
            : throw new BenchException($"{name} takes {string.Join(" or ", choices)}, got '{v}'");
    }

    /// <summary>Rejects options nobody asked for, so a typo does not silently run the default.</summary>
    public void RejectUnknown()
    {
        var unknown = _options.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new BenchException($"unknown option(s): {string.Join(", ", unknown)}");
        }
    }
}

internal static class Stats
{
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("no values", nameof(values));
        }

        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>CPU time of this process so far: beside wall time it shows whether other work held the cores.</summary>
    public static double CpuSeconds()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }

    public static string F(double v, int digits = 3) => v.ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
