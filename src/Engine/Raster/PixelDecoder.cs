using System.Runtime.InteropServices;

namespace S2CloudMask.Engine.Raster;

/// <summary>
/// Turns stored pixels of any layout and type into band planes of float32 reflectance,
/// the one form every kernel downstream works on. A pixel with any band NaN or equal to
/// the nodata value comes out NaN in every band, so nodata can never become clear or cloud.
/// </summary>
public static class PixelDecoder
{
    /// <summary>
    /// Decodes pixels <paramref name="first"/> .. first + count (row-major over the image)
    /// into <paramref name="planes"/>: band b at <c>planes[b * planeStride ..]</c>.
    /// </summary>
    public static void Decode(BandImage image, in Scaling scaling, long first, int count, Span<float> planes, int planeStride)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (first < 0 || first + count > image.PixelCount)
        {
            throw new ArgumentOutOfRangeException(nameof(first), "pixel range outside the image");
        }

        if (planeStride < count || planes.Length < ((image.Bands - 1) * planeStride) + count)
        {
            throw new ArgumentException("planes too small", nameof(planes));
        }

        switch (image.Type)
        {
            case ElementType.Float32: Gather<float>(image, scaling, first, count, planes, planeStride); break;
            case ElementType.Float64: Gather<double>(image, scaling, first, count, planes, planeStride); break;
            case ElementType.UInt16: Gather<ushort>(image, scaling, first, count, planes, planeStride); break;
            case ElementType.Int16: Gather<short>(image, scaling, first, count, planes, planeStride); break;
            case ElementType.UInt8: Gather<byte>(image, scaling, first, count, planes, planeStride); break;
            default:
                throw new InvalidInputException("unsupported-dtype", $"band data of type {image.Type} cannot be classified");
        }

        PropagateNoData(planes, image.Bands, count, planeStride);
    }

    private static void Gather<T>(BandImage image, in Scaling scaling, long first, int count, Span<float> planes, int planeStride)
        where T : unmanaged, IConvertible
    {
        var src = MemoryMarshal.Cast<byte, T>(image.Data.AsSpan());
        var divisor = scaling.Divisor;
        var scale = (float)scaling.Scale;
        var offset = (float)scaling.Offset;
        var identity = scaling.IsIdentity;
        var hasNoData = scaling.NoData is not null;
        var noData = scaling.NoData ?? 0;
        var width = image.Width;

        for (var b = 0; b < image.Bands; b++)
        {
            var dest = planes.Slice(b * planeStride, count);
            var done = 0;
            while (done < count)
            {
                var k = first + done;
                var y = k / width;
                var x = (int)(k - (y * width));
                var run = Math.Min(count - done, width - x);
                var at = image.Offset + (y * image.StrideY) + (x * image.StrideX) + (b * image.StrideBand);
                var step = image.StrideX;
                var d = dest.Slice(done, run);
                for (var i = 0; i < run; i++)
                {
                    var raw = src[checked((int)(at + (i * step)))];
                    var v = ToFloat(raw);
                    if (hasNoData && ToDouble(raw) == noData)
                    {
                        d[i] = float.NaN;
                        continue;
                    }

                    if (!identity)
                    {
                        // Same operation order as the reference: (DN + offset) / 10000 in float32.
                        v += offset;
                        v = divisor != 0 ? v / divisor : v * scale;
                    }

                    d[i] = v;
                }

                done += run;
            }
        }
    }

    private static float ToFloat<T>(T raw)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return (float)(object)raw;
        if (typeof(T) == typeof(double)) return (float)(double)(object)raw;
        if (typeof(T) == typeof(ushort)) return (ushort)(object)raw;
        if (typeof(T) == typeof(short)) return (short)(object)raw;
        if (typeof(T) == typeof(byte)) return (byte)(object)raw;
        throw new NotSupportedException();
    }

    private static double ToDouble<T>(T raw)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return (float)(object)raw;
        if (typeof(T) == typeof(double)) return (double)(object)raw;
        if (typeof(T) == typeof(ushort)) return (ushort)(object)raw;
        if (typeof(T) == typeof(short)) return (short)(object)raw;
        if (typeof(T) == typeof(byte)) return (byte)(object)raw;
        throw new NotSupportedException();
    }

    /// <summary>Sets every band of a pixel to NaN when any one band is NaN.</summary>
    internal static void PropagateNoData(Span<float> planes, int bands, int count, int planeStride)
    {
        for (var i = 0; i < count; i++)
        {
            var bad = false;
            for (var b = 0; b < bands; b++)
            {
                bad |= float.IsNaN(planes[(b * planeStride) + i]);
            }

            if (bad)
            {
                for (var b = 0; b < bands; b++)
                {
                    planes[(b * planeStride) + i] = float.NaN;
                }
            }
        }
    }
}
