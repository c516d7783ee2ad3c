namespace S2CloudMask.Api.Masks;

/// <summary>
/// What a classification produced: per date either probabilities (float32, NaN = nodata) or
/// codes (uint8: a mask, or classes), row-major Height x Width.
/// </summary>
public sealed class MaskResult
{
    public required string Output { get; init; }

    public required int Height { get; init; }

    public required int Width { get; init; }

    /// <summary>The dates classified (0 for a single observation).</summary>
    public required IReadOnlyList<int> Dates { get; init; }

    /// <summary>True when the answer keeps a time axis: a stack without <c>date</c>.</summary>
    public required bool KeepsTimeAxis { get; init; }

    public float[][]? Probabilities { get; init; }

    public byte[][]? Codes { get; init; }

    public required string Model { get; init; }

    public string? ShadowModel { get; init; }

    public required float Threshold { get; init; }

    /// <summary>Positive (cloud, or shadow for a shadow model) pixels over valid pixels, all dates together.</summary>
    public required double CloudFraction { get; init; }

    /// <summary>For classes: shadow pixels over valid pixels.</summary>
    public double? ShadowFraction { get; init; }

    public Georeference? Georeference { get; init; }

    /// <summary>Where the reference of a spectral-temporal model came from (X-Reference), null without one.</summary>
    public string? ReferenceOrigin { get; init; }

    public bool Classes => Output == "classes";

    public long PixelCount => (long)Height * Width * Dates.Count;
}
