using Microsoft.Net.Http.Headers;
using S2CloudMask.Api.Masks;
using S2CloudMask.Api.Problems;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Geomedians;

/// <summary>Reads the bodies of PUT (a (y, x, band) reference) and POST (a (y, x, band, time) stack) /geomedians/{tileId}.</summary>
public static class GeomedianRequestReader
{
    /// <summary>A .npy or GeoTIFF (y, x, band) reference, as reflectance (y, x, band) float32 values.</summary>
    public static async Task<(float[] Values, int Height, int Width, Georeference? Georeference)> ReadReferenceAsync(
        HttpRequest request, GeomedianQuery query, LimitsOptions limits, CancellationToken cancellationToken)
    {
        var input = await ReadInputAsync(request, limits, cancellationToken);
        if (input.IsStack)
        {
            throw new InvalidInputException(
                "wrong-shape", "PUT stores a (y, x, band) reference; to compute a geomedian from a (y, x, band, time) stack, POST it");
        }

        var image = input.Date(0);
        image.RequireBands(SpectralBands.Count, "the reference");
        var scaling = Scaling.Resolve(input.Type, query.Scale, query.Offset, query.Nodata ?? input.NoData);
        return (ToReflectance(image, scaling), input.Height, input.Width, input.Georeference);
    }

    /// <summary>A (y, x, band, time) stack: a 4-D .npy, or a GeoTIFF of 10 x time bands with <c>time</c> given.</summary>
    public static async Task<(BandStack Stack, Scaling Scaling, Georeference? Georeference)> ReadStackAsync(
        HttpRequest request, GeomedianQuery query, LimitsOptions limits, CancellationToken cancellationToken)
    {
        var input = await ReadInputAsync(request, limits, cancellationToken);
        BandStack stack;
        if (input.IsStack)
        {
            stack = input.Stack!;
        }
        else if (query.Time is { } time)
        {
            stack = SplitDates(input.Date(0), time);
        }
        else
        {
            throw new InvalidInputException(
                "wrong-shape",
                "POST computes a geomedian from a (y, x, band, time) stack: send a 4-D .npy, or a GeoTIFF of 10 x time bands with ?time=<dates>; " +
                "to store a ready (y, x, band) reference, PUT it");
        }

        MaskRequestReader.CheckPixels((long)stack.Height * stack.Width * stack.Dates, limits);
        var scaling = Scaling.Resolve(stack.Array.Type, query.Scale, query.Offset, query.Nodata ?? input.NoData);
        return (stack, scaling, input.Georeference);
    }

    /// <summary>Decodes every pixel to reflectance, interleaved (y, x, band); NaN where any band is nodata.</summary>
    public static float[] ToReflectance(BandImage image, Scaling scaling)
    {
        ArgumentNullException.ThrowIfNull(image);
        var n = checked((int)image.PixelCount);
        var bands = image.Bands;
        var planes = new float[(long)bands * n];
        PixelDecoder.Decode(image, scaling, 0, n, planes, n);
        var values = new float[(long)bands * n];
        for (var b = 0; b < bands; b++)
        {
            var plane = planes.AsSpan(b * n, n);
            for (var k = 0; k < n; k++)
            {
                values[((long)k * bands) + b] = plane[k];
            }
        }

        return values;
    }

    /// <summary>Bands date by date (10 per date) into a (y, x, band, time) array.</summary>
    public static BandStack SplitDates(BandImage image, int dates)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (dates < 1 || image.Bands != SpectralBands.Count * dates)
        {
            throw new InvalidInputException(
                "wrong-band-count",
                $"time={dates} needs a TIFF of {SpectralBands.Count} x {dates} = {SpectralBands.Count * Math.Max(dates, 0)} bands (date by date), got {image.Bands}");
        }

        var size = image.Type.Size();
        var (h, w, nb) = (image.Height, image.Width, SpectralBands.Count);
        var data = new byte[(long)h * w * nb * dates * size];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                for (var t = 0; t < dates; t++)
                {
                    for (var b = 0; b < nb; b++)
                    {
                        var src = (image.Offset + (y * image.StrideY) + (x * image.StrideX) + (((t * nb) + b) * image.StrideBand)) * size;
                        var dst = ((((((long)y * w) + x) * nb) + b) * dates + t) * size;
                        image.Data.AsSpan((int)src, size).CopyTo(data.AsSpan((int)dst, size));
                    }
                }
            }
        }

        return new BandStack(new NdArray(image.Type, [h, w, nb, dates], data));
    }

    private static async Task<MaskInput> ReadInputAsync(HttpRequest request, LimitsOptions limits, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) || contentType.MediaType.Value is not { } mediaType)
        {
            throw new UnsupportedMediaTypeException("the body needs a Content-Type: application/x-npy (or application/octet-stream) or image/tiff");
        }

        mediaType = mediaType.ToLowerInvariant();
        var body = await MaskRequestReader.ReadBodyAsync(request, limits, cancellationToken);
        if (body.Length == 0)
        {
            throw MaskRequestReader.EmptyBody();
        }

        if (MaskRequestReader.BinaryNpyTypes.Contains(mediaType))
        {
            return MaskRequestReader.ReadNpy(body, limits);
        }

        if (MaskRequestReader.TiffTypes.Contains(mediaType))
        {
            return MaskRequestReader.ReadTiff(body, limits);
        }

        throw new UnsupportedMediaTypeException($"Content-Type '{mediaType}' is not supported here: send application/x-npy or image/tiff");
    }
}
