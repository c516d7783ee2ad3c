using System.Collections.Concurrent;
using System.Text.Json;
using S2CloudMask.Engine.Features;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Models;

/// <summary>
/// A pixel classifier: feature expressions, a tree ensemble over them, an optional grey
/// opening of the probability, and the threshold that turns probability into a mask.
/// Spectral-temporal models (any feature reading <c>ref</c>) need a reference image, the
/// geomedian of the same place.
/// </summary>
public sealed class CloudModel
{
    public CloudModel(string name, FeatureProgram features, TreeEnsemble ensemble, int opening, float threshold, string origin, string? target = null, JsonElement? source = null, JsonElement? metadata = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(ensemble);
        if (ensemble.FeatureCount != features.FeatureCount)
        {
            throw new ModelFormatException($"model '{name}': the ensemble uses {ensemble.FeatureCount} features but {features.FeatureCount} expressions are given");
        }

        if (opening is not (0 or 3))
        {
            throw new ModelFormatException($"model '{name}': only a 3x3 opening is supported, not {opening}");
        }

        Name = name;
        Features = features;
        Ensemble = ensemble;
        Opening = opening;
        Threshold = threshold;
        Origin = origin;
        Target = target ?? (name.Contains("shadow", StringComparison.OrdinalIgnoreCase) ? "shadow" : "cloud");
        Source = source;
        Metadata = metadata;
    }

    public string Name { get; }

    public IReadOnlyList<string> Bands => Features.Bands;

    public FeatureProgram Features { get; }

    public TreeEnsemble Ensemble { get; }

    /// <summary>Side of the square grey opening applied to the probability; 0 for none.</summary>
    public int Opening { get; }

    /// <summary>mask = probability &gt; threshold.</summary>
    public float Threshold { get; }

    public bool NeedsReference => Features.UsesReference;

    /// <summary>What a positive pixel means: <c>cloud</c> or <c>shadow</c>.</summary>
    public string Target { get; }

    /// <summary>The file it was loaded from, or <c>embedded:NAME</c>.</summary>
    public string Origin { get; }

    /// <summary>The model file's <c>source</c> object (where the model comes from), if any.</summary>
    public JsonElement? Source { get; }

    /// <summary>The model file's <c>metadata</c> object (training provenance and metrics), if any.</summary>
    public JsonElement? Metadata { get; }

    /// <summary>
    /// This model with its tree cut down to what a mask at <paramref name="threshold"/> needs
    /// (<see cref="TreeEnsemble.ForMask"/>): it predicts 1 where this one predicts above the
    /// threshold and 0 elsewhere, so its mask at 0.5 is this one's at the threshold. Null
    /// where the ensemble cannot be cut (several trees). Built once per threshold and kept,
    /// since its evaluator is built at first use: up to eight thresholds, after which the
    /// next one asked for starts the set again.
    /// </summary>
    public CloudModel? ForMask(float threshold)
    {
        if (_forMask.TryGetValue(threshold, out var cut))
        {
            return cut;
        }

        var ensemble = Ensemble.ForMask(threshold);
        cut = ensemble is null ? null : new CloudModel(Name, Features, ensemble, Opening, 0.5f, Origin, Target, Source, Metadata);
        if (_forMask.Count >= MaskThresholdsKept)
        {
            _forMask.Clear();
        }

        return _forMask.GetOrAdd(threshold, cut);
    }

    /// <summary>How many thresholds' cut models <see cref="ForMask"/> keeps: requests may ask for any.</summary>
    private const int MaskThresholdsKept = 8;

    private readonly ConcurrentDictionary<float, CloudModel?> _forMask = new();
}
