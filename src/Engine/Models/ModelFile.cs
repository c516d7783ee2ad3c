using System.Text.Json;
using S2CloudMask.Engine.Features;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Models;

/// <summary>
/// Reads <c>*.model.json</c>: <c>{"name", "bands", "features", "ensemble", "postprocess":
/// {"opening": 3}, "threshold", "target", "source", "metadata"}</c>.
/// </summary>
public static class ModelFile
{
    public const string Extension = ".model.json";

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 256 };

    public static CloudModel Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return Parse(stream, path);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ExpressionException)
        {
            throw new ModelFormatException($"model file {path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Every <c>*.model.json</c> embedded in <paramref name="assembly"/> under the manifest
    /// name prefix, in name order; origin <c>embedded:FILE</c>. None is fine.
    /// </summary>
    public static IReadOnlyList<CloudModel> LoadEmbedded(System.Reflection.Assembly assembly, string resourcePrefix)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var models = new List<CloudModel>();
        foreach (var resource in assembly.GetManifestResourceNames().Order(StringComparer.Ordinal))
        {
            if (!resource.StartsWith(resourcePrefix, StringComparison.Ordinal)
                || !resource.EndsWith(Extension, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new ModelFormatException($"embedded model {resource} cannot be opened");
            var file = resource[resourcePrefix.Length..];
            try
            {
                models.Add(Parse(stream, "embedded:" + file));
            }
            catch (Exception e) when (e is not ModelFormatException)
            {
                throw new ModelFormatException($"embedded model {file}: {e.Message}", e);
            }
        }

        return models;
    }

    public static CloudModel Parse(Stream json, string origin)
    {
        using var doc = JsonDocument.Parse(json, Options);
        return Parse(doc.RootElement, origin);
    }

    public static CloudModel Parse(JsonElement root, string origin)
    {
        var name = root.TryGetProperty("name", out var n) ? n.GetString() : null;
        if (string.IsNullOrWhiteSpace(name))
        {
            name = Path.GetFileName(origin).Replace(Extension, "", StringComparison.OrdinalIgnoreCase);
        }

        var bands = root.TryGetProperty("bands", out var b)
            ? b.EnumerateArray().Select(x => x.GetString() ?? "").ToArray()
            : [.. SpectralBands.Names];
        if (!root.TryGetProperty("features", out var f) || f.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException($"model '{name}' ({origin}) has no 'features' list");
        }

        var expressions = f.EnumerateArray().Select(x => x.GetString() ?? "").ToArray();
        FeatureProgram program;
        try
        {
            program = FeatureProgram.Compile(expressions, bands);
        }
        catch (ExpressionException e)
        {
            throw new ModelFormatException($"model '{name}' ({origin}): {e.Message}", e);
        }

        if (!root.TryGetProperty("ensemble", out var ens))
        {
            throw new ModelFormatException($"model '{name}' ({origin}) has no 'ensemble'");
        }

        TreeEnsemble ensemble;
        try
        {
            ensemble = EnsembleReader.Read(ens, expressions.Length);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ModelFormatException($"model '{name}' ({origin}): malformed ensemble: {e.Message}", e);
        }
        catch (ModelFormatException e)
        {
            throw new ModelFormatException($"model '{name}' ({origin}): {e.Message}", e);
        }

        var opening = 0;
        if (root.TryGetProperty("postprocess", out var post) && post.TryGetProperty("opening", out var op))
        {
            opening = op.GetInt32();
        }

        var threshold = root.TryGetProperty("threshold", out var t) ? t.GetSingle() : 0.5f;
        var target = root.TryGetProperty("target", out var tg) ? tg.GetString() : null;
        JsonElement? source = root.TryGetProperty("source", out var s) ? s.Clone() : null;
        JsonElement? metadata = root.TryGetProperty("metadata", out var m) ? m.Clone() : null;
        return new CloudModel(name, program, ensemble, opening, threshold, origin, target, source, metadata);
    }
}
