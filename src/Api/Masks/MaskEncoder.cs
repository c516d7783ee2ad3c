using System.Globalization;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Masks;

/// <summary>An encoded answer: bytes, media type and a file name for Content-Disposition.</summary>
public sealed record EncodedMask(byte[] Bytes, string ContentType, string FileName);

/// <summary>
/// Encodes a <see cref="MaskResult"/> as GeoTIFF, PNG or NPY. GeoTIFF and PNG go through GDAL.
/// </summary>
/// <remarks>
/// PNG scaling, for browsers: a mask is 0 clear, 255 cloud, 128 nodata (transparent through
/// the nodata tag); a probability is its percentage 0..100, 255 nodata (transparent); classes
/// are a palette: clear transparent, cloud white, shadow dark grey, nodata transparent.
/// </remarks>
public static class MaskEncoder
{
    public const string GeoTiffType = "image/tiff; application=geotiff";
    public const string PngType = "image/png";
    public const string NpyType = "application/x-npy";

    /// <summary>Mask PNG value for cloud: 1 scaled to 255 so a browser shows it white.</summary>
    public const byte PngCloud = 255;

    /// <summary>Mask PNG value for nodata (255 is taken by cloud); declared transparent.</summary>
    public const byte PngMaskNodata = 128;

    public static IReadOnlyList<(byte R, byte G, byte B, byte A)> ClassPalette { get; } = BuildPalette();

    public static EncodedMask Encode(MaskResult result, string format)
    {
        ArgumentNullException.ThrowIfNull(result);
        var name = result.ShadowModel is null ? $"{result.Model}-{result.Output}" : $"{result.Model}+{result.ShadowModel}-{result.Output}";
        return format switch
        {
            "npy" => new(Npy.ToBytes(ToArray(result)), NpyType, name + ".npy"),
            "png" => new(Png(result), PngType, name + ".png"),
            _ => new(GeoTiff(result), GeoTiffType, name + ".tif"),
        };
    }

    /// <summary>(y, x) for one date, (y, x, t) for a stack.</summary>
    public static NdArray ToArray(MaskResult result)
    {
        var pixels = result.Height * result.Width;
        var n = result.Dates.Count;
        int[] shape = result.KeepsTimeAxis ? [result.Height, result.Width, n] : [result.Height, result.Width];
        if (result.Probabilities is { } probabilities)
        {
            return NdArray.Create(Interleave(probabilities, pixels), shape);
        }

        return NdArray.Create(Interleave(result.Codes!, pixels), shape);
    }

    private static T[] Interleave<T>(T[][] planes, int pixels)
    {
        if (planes.Length == 1)
        {
            return planes[0];
        }

        var n = planes.Length;
        var values = new T[(long)pixels * n];
        for (var t = 0; t < n; t++)
        {
            var plane = planes[t];
            for (var k = 0; k < pixels; k++)
            {
                values[((long)k * n) + t] = plane[k];
            }
        }

        return values;
    }

    private static byte[] GeoTiff(MaskResult result)
    {
        var isFloat = result.Probabilities is not null;
        var n = result.Dates.Count;
        using var ds = GdalDataset.CreateInMemory(result.Width, result.Height, n, isFloat ? GdalDataType.Float32 : GdalDataType.Byte);
        for (var i = 0; i < n; i++)
        {
            var band = i + 1;
            if (isFloat)
            {
                ds.Write<float>(band, 0, 0, result.Width, result.Height, result.Probabilities![i]);
                ds.SetNoData(band, double.NaN);
            }
            else
            {
                ds.Write<byte>(band, 0, 0, result.Width, result.Height, result.Codes![i]);
                ds.SetNoData(band, CloudClassifier.Nodata);
            }

            ds.SetDescription(band, result.KeepsTimeAxis ? $"{result.Output} date {result.Dates[i]}" : result.Output);
        }

        if (result.Classes)
        {
            ds.SetColorTable(1, ClassPalette);
        }

        ApplyGeoreference(ds, result.Georeference);
        return ds.EncodeTo(
            "GTiff",
            "COMPRESS=DEFLATE",
            isFloat ? "PREDICTOR=3" : "PREDICTOR=2",
            "TILED=YES",
            "BLOCKXSIZE=256",
            "BLOCKYSIZE=256",
            "INTERLEAVE=BAND");
    }

    private static byte[] Png(MaskResult result)
    {
        var pixels = result.Height * result.Width;
        var values = new byte[pixels];
        byte? nodata;
        if (result.Probabilities is { } probabilities)
        {
            var p = probabilities[0];
            for (var k = 0; k < pixels; k++)
            {
                values[k] = float.IsNaN(p[k]) ? CloudClassifier.Nodata : (byte)MathF.Round(Math.Clamp(p[k], 0f, 1f) * 100f);
            }

            nodata = CloudClassifier.Nodata;
        }
        else if (result.Classes)
        {
            result.Codes![0].CopyTo(values, 0);
            nodata = null; // the palette's alpha makes clear and nodata transparent
        }
        else
        {
            var m = result.Codes![0];
            for (var k = 0; k < pixels; k++)
            {
                values[k] = m[k] switch { 1 => PngCloud, 0 => 0, _ => PngMaskNodata };
            }

            nodata = PngMaskNodata;
        }

        using var ds = GdalDataset.CreateInMemory(result.Width, result.Height, 1, GdalDataType.Byte);
        ds.Write<byte>(1, 0, 0, result.Width, result.Height, values);
        if (nodata is { } nd)
        {
            ds.SetNoData(1, nd);
        }

        if (result.Classes)
        {
            ds.SetColorTable(1, ClassPalette);
        }

        return ds.EncodeTo("PNG", "ZLEVEL=6");
    }

    private static void ApplyGeoreference(GdalDataset ds, Georeference? georeference)
    {
        if (georeference?.GeoTransform is { } transform)
        {
            ds.SetGeoTransform(transform);
        }

        if (!string.IsNullOrEmpty(georeference?.ProjectionWkt))
        {
            ds.ProjectionWkt = georeference.ProjectionWkt;
        }
    }

    /// <summary>TiTiler-style Content-Crs: <c>&lt;http://www.opengis.net/def/crs/EPSG/0/32631&gt;</c>; null without an authority code.</summary>
    public static string? ContentCrs(Georeference? georeference)
    {
        if (string.IsNullOrEmpty(georeference?.ProjectionWkt))
        {
            return null;
        }

        using var srs = SpatialReference.FromWkt(georeference.ProjectionWkt);
        return srs.AuthorityName is { } authority && srs.AuthorityCode is { } code
            ? $"<http://www.opengis.net/def/crs/{authority}/0/{code}>"
            : null;
    }

    /// <summary>minx,miny,maxx,maxy of the raster's corners in its CRS; null without a geotransform.</summary>
    public static string? ContentBbox(Georeference? georeference, int width, int height)
    {
        if (georeference?.GeoTransform is not { } g)
        {
            return null;
        }

        double[] xs = [g[0], g[0] + (width * g[1]), g[0] + (height * g[2]), g[0] + (width * g[1]) + (height * g[2])];
        double[] ys = [g[3], g[3] + (width * g[4]), g[3] + (height * g[5]), g[3] + (width * g[4]) + (height * g[5])];
        return string.Join(
            ",",
            new[] { xs.Min(), ys.Min(), xs.Max(), ys.Max() }.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
    }

    private static (byte R, byte G, byte B, byte A)[] BuildPalette()
    {
        var palette = new (byte R, byte G, byte B, byte A)[256];
        palette[0] = (0, 0, 0, 0);          // clear: transparent
        palette[1] = (255, 255, 255, 255);  // cloud: white
        palette[2] = (64, 64, 64, 255);     // shadow: dark grey
        for (var i = 3; i < 255; i++)
        {
            palette[i] = (0, 0, 0, 255);
        }

        palette[CloudClassifier.Nodata] = (0, 0, 0, 0); // nodata: transparent
        return palette;
    }
}
