using System.Runtime.InteropServices;
using S2CloudMask.Api.Masks;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Geomedians;

/// <summary>What computing a geomedian took, kept beside it and returned by POST /geomedians/{tileId}.</summary>
/// <param name="Dates">Dates in the stack.</param>
/// <param name="MinDatesUsed">Fewest valid dates any pixel had (cloudy or nodata dates are dropped per pixel by the caller's nodata).</param>
/// <param name="MaxDatesUsed">Most valid dates any pixel had.</param>
/// <param name="PixelsWithoutData">Pixels with no valid date (NaN in the geomedian).</param>
/// <param name="TotalIterations">Weiszfeld iterations over all pixels.</param>
/// <param name="MaxIterations">Most iterations one pixel needed.</param>
/// <param name="Milliseconds">Time the computation took.</param>
public sealed record GeomedianSummary(
    int Dates,
    int MinDatesUsed,
    int MaxDatesUsed,
    long PixelsWithoutData,
    long TotalIterations,
    int MaxIterations,
    double Milliseconds);

/// <summary>
/// A cached geomedian: (y, x, band) float32 reflectance (NaN = nodata), row-major, with its
/// georeferencing (when the input had one) and provenance. Immutable once stored.
/// </summary>
public sealed class StoredGeomedian
{
    public required string TileId { get; init; }

    public required int Height { get; init; }

    public required int Width { get; init; }

    public required int Bands { get; init; }

    /// <summary>The pixels as little-endian float32 bytes, (y, x, band) order.</summary>
    public required byte[] Data { get; init; }

    public Georeference? Georeference { get; init; }

    public required DateTimeOffset CreatedUtc { get; init; }

    /// <summary>"put" (uploaded reference), "post" (computed from a posted stack), "mask" (computed for /mask), "remote" (from COG/STAC sources).</summary>
    public required string Source { get; init; }

    public GeomedianSummary? Summary { get; init; }

    /// <summary>SHA-256 (hex) of the stored file; set once written or read.</summary>
    public string Checksum { get; set; } = "";

    public long PixelBytes => Data.LongLength;

    public ReadOnlySpan<float> Values => MemoryMarshal.Cast<byte, float>(Data);

    /// <summary>The geomedian as the image a spectral-temporal model compares with (no copy).</summary>
    public BandImage ToImage() => BandImage.Interleaved(Data, ElementType.Float32, Height, Width, Bands);

    public NdArray ToArray() => new(ElementType.Float32, [Height, Width, Bands], Data);

    public static StoredGeomedian FromValues(
        string tileId, float[] values, int height, int width, int bands, Georeference? georeference, string source, GeomedianSummary? summary = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.LongLength != (long)height * width * bands)
        {
            throw new ArgumentException($"{values.LongLength} values do not fill {height} x {width} x {bands}", nameof(values));
        }

        return new StoredGeomedian
        {
            TileId = tileId,
            Height = height,
            Width = width,
            Bands = bands,
            Data = MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
            Georeference = georeference is { IsEmpty: false } ? georeference : null,
            CreatedUtc = DateTimeOffset.UtcNow,
            Source = source,
            Summary = summary,
        };
    }
}
