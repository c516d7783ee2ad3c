namespace S2CloudMask.Train.Learning;

/// <summary>
/// What to train: the feature expressions (the engine's language), the learner's settings,
/// the post-processing, and how many labelled pixels to draw from each training scene.
/// </summary>
public sealed record ModelSpec
{
    public required string Name { get; init; }

    public required string Description { get; init; }

    public required IReadOnlyList<string> Features { get; init; }

    /// <summary>Boosting rounds; 1 for a single CART-style tree.</summary>
    public required int Trees { get; init; }

    /// <summary>Most leaves per tree (FastTree grows best-first up to this many).</summary>
    public required int Leaves { get; init; }

    /// <summary>Largest allowed depth; 0 for no limit. Met by lowering <see cref="Leaves"/> until the tree fits.</summary>
    public int MaxDepth { get; init; }

    public double LearningRate { get; init; } = 0.2;

    public int MinExamplesPerLeaf { get; init; } = 20;

    /// <summary>3 for a 3x3 grey opening of the probability, 0 for none.</summary>
    public int Opening { get; init; }

    public float Threshold { get; init; } = 0.5f;

    /// <summary>Labelled pixels drawn per scene and class (clear, cloud).</summary>
    public int PerClassPerScene { get; init; } = 2000;

    /// <summary>The same for scenes larger than <see cref="LargeScenePixels"/>.</summary>
    public int PerClassPerLargeScene { get; init; } = 4000;

    public int LargeScenePixels { get; init; } = 100_000;

    public int Seed { get; init; } = 20240501;

    /// <summary>True when a feature reads the reference (geomedian) image.</summary>
    public bool IsTemporal => Features.Any(f => f.Contains("ref", StringComparison.Ordinal));
}
