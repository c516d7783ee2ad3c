using S2CloudMask.Engine;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Masks;

/// <summary>Where the input sits on the earth: GDAL's geotransform and the CRS as WKT (either may be absent).</summary>
public sealed record Georeference(double[]? GeoTransform, string? ProjectionWkt)
{
    public bool IsEmpty => GeoTransform is null && string.IsNullOrEmpty(ProjectionWkt);
}

/// <summary>
/// The decoded request body: one observation (y, x, band) or a stack (y, x, band, time), with
/// the georeferencing and nodata value a GeoTIFF carried.
/// </summary>
public sealed class MaskInput
{
    private readonly BandImage? _image;
    private readonly BandStack? _stack;

    private MaskInput(BandImage? image, BandStack? stack, Georeference? georeference, double? noData)
    {
        _image = image;
        _stack = stack;
        Georeference = georeference is { IsEmpty: false } ? georeference : null;
        NoData = noData;
    }

    public bool IsStack => _stack is not null;

    /// <summary>The (y, x, band, time) stack, or null for one observation.</summary>
    public BandStack? Stack => _stack;

    public int Height => _image?.Height ?? _stack!.Height;

    public int Width => _image?.Width ?? _stack!.Width;

    public int Bands => _image?.Bands ?? _stack!.Bands;

    public int Dates => _stack?.Dates ?? 1;

    public ElementType Type => _image?.Type ?? _stack!.Array.Type;

    public Georeference? Georeference { get; }

    /// <summary>The nodata value the file declared (GeoTIFF tag), if any.</summary>
    public double? NoData { get; }

    public long PixelCount => (long)Height * Width * Dates;

    public static MaskInput Single(BandImage image, Georeference? georeference = null, double? noData = null) =>
        new(image, null, georeference, noData);

    /// <summary>A stack with the georeferencing and nodata value its source declared.</summary>
    public static MaskInput OfStack(BandStack stack, Georeference? georeference = null, double? noData = null) =>
        new(null, stack, georeference, noData);

    /// <summary>A (y, x, band) observation or a (y, x, band, time) stack.</summary>
    public static MaskInput FromArray(NdArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        return array.Rank switch
        {
            3 => new(BandImage.FromArray(array), null, null, null),
            4 => new(null, new BandStack(array), null, null),
            _ => throw new InvalidInputException(
                "wrong-shape",
                $"expected a (y, x, band) observation or a (y, x, band, time) stack, got shape {array.ShapeText}"),
        };
    }

    public BandImage Date(int t) => _stack is not null ? _stack.Date(t) : t == 0 ? _image! : throw new ArgumentOutOfRangeException(nameof(t));
}
