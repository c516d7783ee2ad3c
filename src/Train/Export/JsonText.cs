using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace S2CloudMask.Train.Export;

/// <summary>
/// A small deterministic JSON writer: keys in the order given, numbers in invariant culture
/// with round-trip formatting (the shortest text that parses back to the same float or
/// double), "\n" line ends, arrays of plain values on one line and objects indented. Same
/// values give the same bytes on every machine.
/// </summary>
public static class JsonText
{
    private static readonly JsonSerializerOptions StringOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(object? value)
    {
        var sb = new StringBuilder();
        WriteValue(sb, value, 0);
        sb.Append('\n');
        return sb.ToString();
    }

    public static string Number(double v) => double.IsFinite(v)
        ? v.ToString("R", CultureInfo.InvariantCulture)
        : throw new ArgumentException($"JSON has no {v}", nameof(v));

    public static string Number(float v) => float.IsFinite(v)
        ? v.ToString("R", CultureInfo.InvariantCulture)
        : throw new ArgumentException($"JSON has no {v}", nameof(v));

    public static string String(string s) => JsonSerializer.Serialize(s, StringOptions);

    private static void WriteValue(StringBuilder sb, object? value, int indent)
    {
        switch (value)
        {
            case null: sb.Append("null"); break;
            case string s: sb.Append(String(s)); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case float f: sb.Append(Number(f)); break;
            case double d: sb.Append(Number(d)); break;
            case int i: sb.Append(i.ToString(CultureInfo.InvariantCulture)); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case IEnumerable<KeyValuePair<string, object?>> obj: WriteObject(sb, obj.ToList(), indent); break;
            case IEnumerable e: WriteArray(sb, e.Cast<object?>().ToList(), indent); break;
            default: throw new ArgumentException($"cannot write {value.GetType()} as JSON", nameof(value));
        }
    }

    private static void WriteObject(StringBuilder sb, List<KeyValuePair<string, object?>> items, int indent)
    {
        if (items.Count == 0)
        {
            sb.Append("{}");
            return;
        }

        sb.Append("{\n");
        for (var i = 0; i < items.Count; i++)
        {
            sb.Append(' ', (indent + 1) * 2).Append(String(items[i].Key)).Append(": ");
            WriteValue(sb, items[i].Value, indent + 1);
            sb.Append(i + 1 < items.Count ? ",\n" : "\n");
        }

        sb.Append(' ', indent * 2).Append('}');
    }

    private static void WriteArray(StringBuilder sb, List<object?> items, int indent)
    {
        var plain = items.All(x => x is null or string or bool or float or double or int or long);
        if (plain)
        {
            sb.Append('[');
            for (var i = 0; i < items.Count; i++)
            {
                if (i > 0)
                {
                    sb.Append(',');
                }

                WriteValue(sb, items[i], indent);
            }

            sb.Append(']');
            return;
        }

        sb.Append("[\n");
        for (var i = 0; i < items.Count; i++)
        {
            sb.Append(' ', (indent + 1) * 2);
            WriteValue(sb, items[i], indent + 1);
            sb.Append(i + 1 < items.Count ? ",\n" : "\n");
        }

        sb.Append(' ', indent * 2).Append(']');
    }
}

/// <summary>An insertion-ordered JSON object (keys written in the order they were added).</summary>
public sealed class JsonObject : IEnumerable<KeyValuePair<string, object?>>
{
    private readonly List<KeyValuePair<string, object?>> _items = [];

    public object? this[string key]
    {
        set
        {
            var i = _items.FindIndex(kv => kv.Key == key);
            if (i >= 0)
            {
                _items[i] = new(key, value);
            }
            else
            {
                _items.Add(new(key, value));
            }
        }
    }

    public void Add(string key, object? value) => this[key] = value;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
