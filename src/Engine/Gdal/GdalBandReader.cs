using System.Runtime.InteropServices;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Engine.Gdal;

/// <summary>Raster bands read through GDAL as the engine's band images.</summary>
public static class GdalBandReader
{
    /// <summary>
    /// The element type the engine decodes for a GDAL band type; <paramref name="what"/> names
    /// the source in the error for a type it cannot classify.
    /// </summary>
    public static ElementType ElementTypeOf(GdalDataType type, string what) => type switch
    {
        GdalDataType.Byte => ElementType.UInt8,
        GdalDataType.UInt16 => ElementType.UInt16,
        GdalDataType.Int16 => ElementType.Int16,
        GdalDataType.Float32 => ElementType.Float32,
        GdalDataType.Float64 => ElementType.Float64,
        _ => throw new InvalidInputException(
            "unsupported-dtype", $"{what}: bands of type {type} are not supported: use Byte, UInt16, Int16, Float32 or Float64"),
    };

    /// <summary>
    /// Reads bands 1 .. <paramref name="bands"/> of rows [<paramref name="y"/>, y + rows) into
    /// <paramref name="buffer"/> (band-sequential, at least bands x rows x width elements)
    /// and returns the image over it.
    /// </summary>
    public static BandImage ReadRows(GdalDataset dataset, int bands, ElementType type, int y, int rows, byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ReadColumns(dataset, bands, type, y, rows, 0, dataset.Width, buffer);
        return BandImage.Planar(buffer, type, bands, rows, dataset.Width);
    }

    /// <summary>
    /// Reads columns [<paramref name="x0"/>, <paramref name="x1"/>) of what
    /// <see cref="ReadRows"/> reads into their places in <paramref name="buffer"/>, laid out
    /// for the whole width: strips of columns read through separate datasets of one file, on
    /// separate threads, fill one image.
    /// </summary>
    public static void ReadColumns(GdalDataset dataset, int bands, ElementType type, int y, int rows, int x0, int x1, byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(buffer);
        var width = dataset.Width;
        if (x0 < 0 || x1 > width || x0 >= x1)
        {
            throw new ArgumentOutOfRangeException(nameof(x0), $"columns [{x0}, {x1}) are not a strip of {width}");
        }

        var span = buffer.AsSpan(0, checked(bands * rows * width * type.Size()));
        int[] list = [.. Enumerable.Range(1, bands)];
        var (n, plane) = (x1 - x0, (long)rows * width);
        switch (type)
        {
            case ElementType.UInt8: dataset.ReadBands(list, x0, y, n, rows, span[x0..], 1, width, plane); break;
            case ElementType.UInt16: dataset.ReadBands(list, x0, y, n, rows, MemoryMarshal.Cast<byte, ushort>(span)[x0..], 1, width, plane); break;
            case ElementType.Int16: dataset.ReadBands(list, x0, y, n, rows, MemoryMarshal.Cast<byte, short>(span)[x0..], 1, width, plane); break;
            case ElementType.Float32: dataset.ReadBands(list, x0, y, n, rows, MemoryMarshal.Cast<byte, float>(span)[x0..], 1, width, plane); break;
            case ElementType.Float64: dataset.ReadBands(list, x0, y, n, rows, MemoryMarshal.Cast<byte, double>(span)[x0..], 1, width, plane); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "not a raster band type");
        }
    }
}
