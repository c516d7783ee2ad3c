namespace S2CloudMask.Engine.Raster;

/// <summary>
/// A read-only view of a multi-band image stored in any layout: pixel-interleaved
/// (NumPy's (y, x, band)), band-sequential (GDAL's (band, y, x)) or one date of a
/// (y, x, band, time) stack. Strides are in elements.
/// </summary>
public sealed class BandImage
{
    public BandImage(
        byte[] data,
        ElementType type,
        int height,
        int width,
        int bands,
        long offset,
        long strideY,
        long strideX,
        long strideBand)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (height < 0 || width < 0 || bands < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(height), "image dimensions must be positive");
        }

        var last = offset + ((long)Math.Max(height - 1, 0) * strideY) + ((long)Math.Max(width - 1, 0) * strideX) + ((bands - 1) * strideBand);
        if (height > 0 && width > 0 && (last + 1) * type.Size() > data.LongLength)
        {
            throw new ArgumentException("the layout reaches beyond the data", nameof(data));
        }

        Data = data;
        Type = type;
        Height = height;
        Width = width;
        Bands = bands;
        Offset = offset;
        StrideY = strideY;
        StrideX = strideX;
        StrideBand = strideBand;
    }

    public byte[] Data { get; }

    public ElementType Type { get; }

    public int Height { get; }

    public int Width { get; }

    public int Bands { get; }

    public long Offset { get; }

    public long StrideY { get; }

    public long StrideX { get; }

    public long StrideBand { get; }

    public long PixelCount => (long)Height * Width;

    /// <summary>A (y, x, band) array as an image.</summary>
    public static BandImage FromArray(NdArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Rank != 3)
        {
            throw new InvalidInputException("wrong-shape", $"expected a (y, x, band) array, got shape {array.ShapeText}");
        }

        var (h, w, b) = (array.Shape[0], array.Shape[1], array.Shape[2]);
        return Interleaved(array.Data, array.Type, h, w, b);
    }

    public static BandImage Interleaved(byte[] data, ElementType type, int height, int width, int bands) =>
        new(data, type, height, width, bands, 0, (long)width * bands, bands, 1);

    public static BandImage Planar(byte[] data, ElementType type, int bands, int height, int width) =>
        new(data, type, height, width, bands, 0, width, 1, (long)height * width);

    /// <summary>Checks the band count against what a model expects.</summary>
    public void RequireBands(int expected, string what)
    {
        if (Bands != expected)
        {
            throw new InvalidInputException(
                "wrong-band-count",
                $"{what} has {Bands} bands; expected {expected} ({string.Join(" ", SpectralBands.Names)})");
        }
    }
}

/// <summary>A (y, x, band, time) stack: one <see cref="BandImage"/> per date, without copying.</summary>
public sealed class BandStack
{
    public BandStack(NdArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Rank != 4)
        {
            throw new InvalidInputException("wrong-shape", $"expected a (y, x, band, time) array, got shape {array.ShapeText}");
        }

        Array = array;
    }

    public NdArray Array { get; }

    public int Height => Array.Shape[0];

    public int Width => Array.Shape[1];

    public int Bands => Array.Shape[2];

    public int Dates => Array.Shape[3];

    public BandImage Date(int t)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(t);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(t, Dates);
        long bt = (long)Bands * Dates;
        return new BandImage(Array.Data, Array.Type, Height, Width, Bands, t, Width * bt, bt, Dates);
    }
}
