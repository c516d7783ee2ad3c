using System.Runtime.InteropServices;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Train.Data;

/// <summary>
/// Reads band images for training: NumPy <c>.npy</c> arrays, (y, x, band) or (y, x, band, time),
/// and GeoTIFFs (bands 1..10 in model band order) through the engine's GDAL binding. Values are
/// scaled as the service scales them: floats as reflectance, integers as DN x 1e-4 with nodata 0.
/// </summary>
public static class SceneReader
{
    /// <summary>A single-date image and how its values become reflectance.</summary>
    public static (BandImage Image, Scaling Scaling) ReadImage(string path, double? scale = null)
    {
        if (IsTiff(path))
        {
            return ReadGeoTiff(path, scale);
        }

        var array = Npy.Read(path);
        if (array.Rank != 3)
        {
            throw new InvalidDataException($"{path}: expected a (y, x, band) array, got {array.ShapeText}");
        }

        return (BandImage.FromArray(array), Scaling.Resolve(array.Type, scale));
    }

    /// <summary>A (y, x, band, time) stack from a <c>.npy</c> file.</summary>
    public static (BandStack Stack, Scaling Scaling) ReadStack(string path, double? scale = null)
    {
        var array = Npy.Read(path);
        if (array.Rank != 4)
        {
            throw new InvalidDataException($"{path}: expected a (y, x, band, time) array, got {array.ShapeText}");
        }

        return (new BandStack(array), Scaling.Resolve(array.Type, scale));
    }

    /// <summary>Labels as a flat byte array, row-major, of the given number of pixels per date.</summary>
    public static NdArray ReadLabels(string path)
    {
        var labels = Npy.Read(path);
        if (labels.Type != ElementType.UInt8)
        {
            throw new InvalidDataException($"{path}: labels must be uint8, got {labels.Type}");
        }

        return labels;
    }

    /// <summary>The labels of date <paramref name="t"/> of a (y, x, time) label array.</summary>
    public static byte[] LabelsOfDate(NdArray labels, int t)
    {
        int h = labels.Shape[0], w = labels.Shape[1], nt = labels.Shape[2];
        var all = labels.AsSpan<byte>();
        var result = new byte[h * w];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = all[(i * nt) + t];
        }

        return result;
    }

    private static bool IsTiff(string path) =>
        path.EndsWith(".tif", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tiff", StringComparison.OrdinalIgnoreCase);

    private static (BandImage, Scaling) ReadGeoTiff(string path, double? scale)
    {
        using var ds = GdalDataset.Open(path);
        if (ds.BandCount < 10)
        {
            throw new InvalidDataException($"{path}: expected 10 bands (B02 ... B12), found {ds.BandCount}");
        }

        int[] bands = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        var values = new ushort[bands.Length * ds.Width * ds.Height];
        ds.ReadBands<ushort>(bands, 0, 0, ds.Width, ds.Height, values);
        var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        return (BandImage.Planar(bytes, ElementType.UInt16, bands.Length, ds.Height, ds.Width), Scaling.Resolve(ElementType.UInt16, scale));
    }
}
