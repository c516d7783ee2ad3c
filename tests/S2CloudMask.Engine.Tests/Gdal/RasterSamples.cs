using S2CloudMask.Engine.Gdal;

namespace S2CloudMask.Engine.Tests.Gdal;

/// <summary>Small rasters built in memory, so most GDAL tests need no files.</summary>
internal static class RasterSamples
{
    /// <summary>The UTM zone of the shared T31TDH scene, with its 10 m grid origin.</summary>
    public static readonly double[] UtmGeoTransform = [399960.0, 10.0, 0.0, 4693200.0, 0.0, -10.0];

    /// <summary>value(x, y, band) = x + 100 y + 10000 band + 0.25, distinct everywhere and exact in float32.</summary>
    public static float[] Float32Planes(int width, int height, int bands)
    {
        var data = new float[width * height * bands];
        for (var b = 0; b < bands; b++)
        {
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    data[(b * height * width) + (y * width) + x] = x + (100 * y) + (10000 * b) + 0.25f;
                }
            }
        }

        return data;
    }

    /// <summary>A 1-band 37x23 float32 GeoTIFF (odd sizes catch stride mistakes).</summary>
    public static byte[] GeoTiffBytes(out float[] values)
    {
        values = Float32Planes(37, 23, 1);
        using var ds = GdalDataset.CreateInMemory(37, 23, 1, GdalDataType.Float32);
        ds.Write(1, 0, 0, 37, 23, values.AsSpan());
        return ds.EncodeTo("GTiff");
    }
}
