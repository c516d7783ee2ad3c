using System.Runtime.InteropServices;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Tests.Support;

/// <summary>An encoded raster (GeoTIFF, PNG) opened with the engine's GDAL binding.</summary>
public sealed class OpenedRaster : IDisposable
{
    private readonly VsiMemFile _file;

    public OpenedRaster(byte[] bytes, string extension)
    {
        _file = new VsiMemFile(bytes, extension);
        Dataset = GdalDataset.Open(_file.Path);
    }

    public GdalDataset Dataset { get; }

    public byte[] ReadBytes(int band)
    {
        var values = new byte[Dataset.Width * Dataset.Height];
        Dataset.Read<byte>(band, 0, 0, Dataset.Width, Dataset.Height, values);
        return values;
    }

    public float[] ReadFloats(int band)
    {
        var values = new float[Dataset.Width * Dataset.Height];
        Dataset.Read<float>(band, 0, 0, Dataset.Width, Dataset.Height, values);
        return values;
    }

    public void Dispose()
    {
        Dataset.Dispose();
        _file.Dispose();
    }
}

/// <summary>Test inputs and what the engine itself answers for them.</summary>
public static class Rasters
{
    /// <summary>UTM 55S, where Wright (ACT) lies; any CRS with an EPSG code would do.</summary>
    public const int Epsg = 32755;

    public static readonly double[] GeoTransform = [690000, 10, 0, 6090000, 0, -10];

    private static readonly Lazy<NdArray> StackArray = new(() => Npy.Read(SharedData.Data("stack-wright.npy")));

    public static CloudModel Model(string name) => ModelFile.Load(SharedData.Model(name));

    /// <summary>Date 4 of the Wright stack (partly cloudy), as uint16 DN (y, x, band).</summary>
    public static NdArray PartlyCloudyDn()
    {
        var stack = new BandStack(StackArray.Value);
        var image = stack.Date(4);
        var (h, w, b) = (image.Height, image.Width, image.Bands);
        var src = MemoryMarshal.Cast<byte, float>(image.Data);
        var dn = new ushort[h * w * b];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                for (var band = 0; band < b; band++)
                {
                    var v = src[(int)(image.Offset + (y * image.StrideY) + (x * image.StrideX) + (band * image.StrideBand))];
                    dn[(((y * w) + x) * b) + band] = (ushort)Math.Clamp(MathF.Round(v), 1, 65535);
                }
            }
        }

        return NdArray.Create(dn, h, w, b);
    }

    /// <summary>The first <paramref name="dates"/> dates of the Wright stack (float32 DN), (y, x, band, time).</summary>
    public static NdArray StackDates(int dates)
    {
        var full = StackArray.Value;
        var (h, w, b, t) = (full.Shape[0], full.Shape[1], full.Shape[2], full.Shape[3]);
        var src = full.AsSpan<float>();
        var values = new float[h * w * b * dates];
        for (var k = 0; k < h * w * b; k++)
        {
            src.Slice(k * t, dates).CopyTo(values.AsSpan(k * dates, dates));
        }

        return NdArray.Create(values, h, w, b, dates);
    }

    /// <summary>A (y, x, band) array as a GeoTIFF of band-sequential planes with a geotransform and CRS.</summary>
    public static byte[] ToGeoTiff(NdArray array)
    {
        var (h, w, b) = (array.Shape[0], array.Shape[1], array.Shape[2]);
        var src = array.AsSpan<ushort>();
        using var ds = GdalDataset.CreateInMemory(w, h, b, GdalDataType.UInt16);
        var plane = new ushort[h * w];
        for (var band = 0; band < b; band++)
        {
            for (var k = 0; k < h * w; k++)
            {
                plane[k] = src[(k * b) + band];
            }

            ds.Write<ushort>(band + 1, 0, 0, w, h, plane);
        }

        ds.SetGeoTransform(GeoTransform);
        using (var srs = SpatialReference.FromEpsg(Epsg))
        {
            ds.ProjectionWkt = srs.ToWkt();
        }

        return ds.EncodeTo("GTiff", "COMPRESS=DEFLATE");
    }

    /// <summary>Probability as the engine computes it, without the service in between.</summary>
    public static float[] Probability(string model, BandImage image, Scaling scaling, BandImage? reference = null) =>
        Probability(Model(model), image, scaling, reference);

    public static float[] Probability(CloudModel model, BandImage image, Scaling scaling, BandImage? reference = null)
    {
        var p = new float[image.PixelCount];
        CloudClassifier.Probability(model, image, scaling, reference, Scaling.Identity, p);
        return p;
    }

    public static byte[] Mask(float[] probability, float threshold)
    {
        var mask = new byte[probability.Length];
        CloudClassifier.Mask(probability, threshold, mask);
        return mask;
    }

    public static double CloudFraction(byte[] mask) =>
        (double)mask.Count(v => v == 1) / Math.Max(1, mask.Count(v => v != CloudClassifier.Nodata));
}
