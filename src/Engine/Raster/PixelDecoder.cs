using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    public static void Decode(BandImage image, in Scaling scaling, long first, int count, Span<float> planes, int planeStride) =>
        Decode(image, scaling, first, count, planes, planeStride, propagateNoData: true);

    /// <summary>
    /// As <see cref="Decode(BandImage, in Scaling, long, int, Span{float}, int)"/>; without
    /// <paramref name="propagateNoData"/> a nodata value stays NaN in its own band only (the
    /// geomedian drops a date, not the whole pixel).
    /// </summary>
    /// <param name="bandMask">
    /// Bit b set: band b is wanted. The planes of other bands may be left unwritten, though
    /// their nodata still makes the pixel NaN in every plane written.
    /// </param>
    internal static void Decode(BandImage image, in Scaling scaling, long first, int count, Span<float> planes, int planeStride, bool propagateNoData, ulong bandMask = ulong.MaxValue)
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

        // Rows back to back: vector paths with scaling and nodata fused in. Band planes (GDAL's
        // band-sequential reads) sixteen pixels a step, only the wanted bands written; bands
        // not in planes (records, stack dates) by windows of float32 records, gathers otherwise.
        var planar = image.StrideX == 1 && image.StrideBand >= image.PixelCount;
        if (UseVectors && Avx2.IsSupported && image.StrideY == image.Width * image.StrideX && (planar || image.StrideX != 1))
        {
            var fused = image.Type switch
            {
                ElementType.Float32 => Fused<float>(image, scaling, first, count, planes, planeStride, propagateNoData, bandMask, planar),
                ElementType.UInt16 => Fused<ushort>(image, scaling, first, count, planes, planeStride, propagateNoData, bandMask, planar),
                ElementType.Int16 => Fused<short>(image, scaling, first, count, planes, planeStride, propagateNoData, bandMask, planar),
                _ => false,
            };
            if (fused)
            {
                return;
            }
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

        if (propagateNoData)
        {
            PropagateNoData(planes, image.Bands, count, planeStride);
        }
    }

    private static void Gather<T>(BandImage image, in Scaling scaling, long first, int count, Span<float> planes, int planeStride)
        where T : unmanaged, INumberBase<T>
    {
        var src = MemoryMarshal.Cast<byte, T>(image.Data.AsSpan());
        var width = image.Width;
        var bands = image.Bands;

        // Runs of pixels evenly spaced in memory: the whole range when rows follow each other
        // without gaps (NumPy and GDAL layouts), else one run per row.
        var contiguousRows = image.StrideY == width * image.StrideX;
        var done = 0;
        while (done < count)
        {
            var k = first + done;
            var y = k / width;
            var x = k - (y * width);
            var run = contiguousRows ? count - done : (int)Math.Min(count - done, width - x);
            var at = image.Offset + (y * image.StrideY) + (x * image.StrideX);
            if (image.StrideBand == 1 && image.StrideX == bands)
            {
                // Pixel-interleaved: read each pixel's bands together, write each to its plane.
                var s = src.Slice(checked((int)at), checked(run * bands));
                var d = planes.Slice(done, ((bands - 1) * planeStride) + run);
                ref var from = ref MemoryMarshal.GetReference(s);
                ref var to = ref MemoryMarshal.GetReference(d);

                // Lengths were checked by the slices above; the loop itself runs unchecked.
                for (var i = 0; i < run; i++)
                {
                    ref var px = ref Unsafe.Add(ref from, i * bands);
                    for (var b = 0; b < bands; b++)
                    {
                        Unsafe.Add(ref to, (b * planeStride) + i) = float.CreateTruncating(Unsafe.Add(ref px, b));
                    }
                }
            }
            else
            {
                for (var b = 0; b < bands; b++)
                {
                    var dest = planes.Slice((b * planeStride) + done, run);
                    var start = checked((int)(at + (b * image.StrideBand)));
                    if (image.StrideX == 1)
                    {
                        Convert(src.Slice(start, run), dest);
                    }
                    else
                    {
                        var step = (int)image.StrideX;
                        for (var i = 0; i < run; i++)
                        {
                            dest[i] = float.CreateTruncating(src[start + (i * step)]);
                        }
                    }
                }
            }

            done += run;
        }

        for (var b = 0; b < bands; b++)
        {
            var plane = planes.Slice(b * planeStride, count);

            // Compared after conversion to float, which is exact for the 8- and 16-bit types.
            if (scaling.NoData is { } nd && !double.IsNaN(nd))
            {
                MarkNoData(plane, (float)nd);
            }

            if (!scaling.IsIdentity)
            {
                // Same operation order as the reference: (DN + offset) / 10000 in float32.
                if (scaling.Offset != 0)
                {
                    TensorPrimitives.Add(plane, (float)scaling.Offset, plane);
                }

                var divisor = scaling.Divisor;
                if (divisor != 0)
                {
                    TensorPrimitives.Divide(plane, divisor, plane);
                }
                else
                {
                    TensorPrimitives.Multiply(plane, (float)scaling.Scale, plane);
                }
            }
        }
    }

    /// <summary>
    /// Pixels whose bands are not contiguous planes (pixel-interleaved images, one date of a
    /// stack) with rows back to back: eight pixels at a time, one AVX2 gather per band, the
    /// nodata test, scaling and NaN propagation applied in the same pass in the same order
    /// and float32 arithmetic as the plane-by-plane path. 16-bit values are gathered as
    /// 32-bit words, so the vector loop stops where that would read past the data; the rest
    /// goes pixel by pixel. False when the layout does not suit (nothing written then).
    /// </summary>
    private static unsafe bool DecodeGathered<T>(BandImage image, in Scaling scaling, long first, int count, Span<float> planes, int planeStride, bool propagate, ulong bandMask)
        where T : unmanaged, INumberBase<T>
    {
        var src = MemoryMarshal.Cast<byte, T>(image.Data.AsSpan());
        var bands = image.Bands;
        var strideX = image.StrideX;
        var strideBand = image.StrideBand;
        if (strideX <= 0 || strideBand <= 0 || (strideX * 7) + (strideBand * (bands - 1)) > int.MaxValue)
        {
            return false;
        }

        var at = image.Offset + first * strideX;
        var overread = typeof(T) == typeof(float) ? 0 : 1;
        var groups = count / 8;
        while (groups > 0 && at + ((groups * 8 - 1) * strideX) + ((bands - 1) * strideBand) + overread >= src.Length)
        {
            groups--;
        }

        var rule = new ValueRule(scaling);
        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * (int)strideX;
        var nan = Vector256.Create(float.NaN);
        fixed (T* s = src)
        fixed (float* d = planes)
        {
            var all = bands >= 64 || bandMask == ulong.MaxValue || (bandMask & ((1UL << bands) - 1)) == (1UL << bands) - 1;
            var records = strideBand == 1 && strideX == bands;
            var groupBytes = records ? 8 * bands * sizeof(T) : 0;
            var g = 0;
            if (typeof(T) == typeof(float) && records && propagate && bands <= 64)
            {
                var records32 = (float*)(s + at);
                if (Avx512F.IsSupported && UseAvx512)
                {
                    g = rule.IsPlain
                        ? Records<No>(records32, d, groups, bands, planeStride, bandMask, rule)
                        : Records<Yes>(records32, d, groups, bands, planeStride, bandMask, rule);
                }
                else if (bands >= 4)
                {
                    g = rule.IsPlain
                        ? Records256<No>(records32, d, groups, bands, planeStride, bandMask, rule)
                        : Records256<Yes>(records32, d, groups, bands, planeStride, bandMask, rule);
                }
            }
            else if ((typeof(T) == typeof(ushort) || typeof(T) == typeof(short)) && records && bands >= 8 && UseRecords16)
            {
                // From band 64 on every band is wanted (a mask has 64 bits).
                var mask = bands > 64 ? ulong.MaxValue : bandMask;
                g = Records16(s + at, d, groups, bands, planeStride, mask, propagate, rule);
            }

            for (; g < groups; g++)
            {
                var px = s + at + (g * 8 * strideX);
                var to = d + (g * 8);

                // Gathers do not train the hardware prefetcher: the group eight ahead.
                Prefetch((byte*)(px + (PrefetchGroups * 8 * strideX)), groupBytes);

                if (!all && (!propagate || (records && Clean(px, 8 * bands, rule.HasNoData, rule.NoData))))
                {
                    // Nothing to propagate: only the bands the caller reads.
                    for (var b = 0; b < bands; b++)
                    {
                        if ((bandMask >> b & 1) != 0)
                        {
                            Avx.Store(to + (b * (long)planeStride), Band(px, lanes + Vector256.Create((int)(b * strideBand)), rule));
                        }
                    }

                    continue;
                }

                var bad = Vector256<float>.Zero;
                for (var b = 0; b < bands; b++)
                {
                    var v = Band(px, lanes + Vector256.Create((int)(b * strideBand)), rule);
                    bad |= ~Vector256.Equals(v, v);
                    Avx.Store(to + (b * (long)planeStride), v);
                }

                if (propagate && bad != Vector256<float>.Zero)
                {
                    for (var b = 0; b < bands; b++)
                    {
                        var slot = to + (b * (long)planeStride);
                        Avx.Store(slot, Vector256.ConditionalSelect(bad, nan, Avx.LoadVector256(slot)));
                    }
                }
            }

            Pixels(s + at, strideX, strideBand, bands, d, planeStride, groups * 8, count, propagate, rule);
        }

        return true;
    }

    /// <summary><see cref="DecodePlanes{T}"/> for band planes, <see cref="DecodeGathered{T}"/> for other layouts.</summary>
    private static bool Fused<T>(BandImage image, in Scaling scaling, long first, int count, Span<float> planes, int planeStride, bool propagate, ulong bandMask, bool planar)
        where T : unmanaged, INumberBase<T> =>
        planar
            ? DecodePlanes<T>(image, scaling, first, count, planes, planeStride, propagate, bandMask)
            : DecodeGathered<T>(image, scaling, first, count, planes, planeStride, propagate, bandMask);

    /// <summary>
    /// Band planes with rows back to back (what GDAL's band-sequential reads give: GeoTIFF
    /// uploads, COGs, the CLI's blocks), sixteen pixels a step: a step with nodata (or NaN) in
    /// any band goes pixel by pixel where nodata spreads, else each wanted band is converted
    /// and scaled in one pass (<see cref="ValueRule"/>, the plane-by-plane path's operations
    /// in its order) and stored. The plane-by-plane path made a pass per band for the
    /// conversion, the nodata, the offset and the divisor, and one more to spread nodata, on
    /// every band wanted or not: the clear scene's <c>fast</c> bands as uint16 DN planes,
    /// 2,048 pixels, took 9.1-9.3 us this way against 18.6-21.3 (BenchmarkDotNet, the Zen 3
    /// EPYC). The CLI's full tile was no faster within the noise (5.4-6.1 s against 5.4-6.4,
    /// three alternating runs): its time is the reads. False when the planes reach past the
    /// data (nothing written then).
    /// </summary>
    private static unsafe bool DecodePlanes<T>(BandImage image, in Scaling scaling, long first, int count, Span<float> planes, int planeStride, bool propagate, ulong bandMask)
        where T : unmanaged, INumberBase<T>
    {
        var src = MemoryMarshal.Cast<byte, T>(image.Data.AsSpan());
        var bands = image.Bands;
        var strideBand = image.StrideBand;
        var at = image.Offset + first;
        if (at < 0 || at + ((bands - 1) * strideBand) + count > src.Length)
        {
            return false;
        }

        var rule = new ValueRule(scaling);
        var groups = count / 16;
        fixed (T* data = src)
        fixed (float* d = planes)
        {
            var s = data + at;
            for (var g = 0; g < groups; g++)
            {
                var i = g * 16;
                if (propagate)
                {
                    var clean = true;
                    for (var b = 0; b < bands && clean; b++)
                    {
                        clean = Clean(s + (b * strideBand) + i, 16, rule.HasNoData, rule.NoData);
                    }

                    if (!clean)
                    {
                        Pixels(s, 1, strideBand, bands, d, planeStride, i, i + 16, propagate: true, rule);
                        continue;
                    }
                }

                for (var b = 0; b < bands; b++)
                {
                    if (b >= 64 || (bandMask >> b & 1) != 0)
                    {
                        var from = s + (b * strideBand) + i;
                        var to = d + (b * (long)planeStride) + i;
                        rule.Apply(Eight(from)).Store(to);
                        rule.Apply(Eight(from + 8)).Store(to + 8);
                    }
                }
            }

            Pixels(s, 1, strideBand, bands, d, planeStride, groups * 16, count, propagate, rule);
        }

        return true;

        // Eight values as floats, exactly (16-bit integers widened, then converted).
        static Vector256<float> Eight(T* from) =>
            typeof(T) == typeof(float) ? Vector256.Load((float*)from)
            : typeof(T) == typeof(ushort) ? Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((ushort*)from))
            : Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((short*)from));
    }

    /// <summary>Pixels [from, to) one by one, every band, as the vector paths decode them.</summary>
    private static unsafe void Pixels<T>(T* s, long strideX, long strideBand, int bands, float* d, int planeStride, int from, int to, bool propagate, in ValueRule rule)
        where T : unmanaged, INumberBase<T>
    {
        for (var i = from; i < to; i++)
        {
            var px = s + (i * strideX);
            var bad = false;
            for (var b = 0; b < bands; b++)
            {
                var v = rule.Apply(float.CreateTruncating(px[b * strideBand]));
                bad |= float.IsNaN(v);
                d[(b * (long)planeStride) + i] = v;
            }

            if (propagate && bad)
            {
                for (var b = 0; b < bands; b++)
                {
                    d[(b * (long)planeStride) + i] = float.NaN;
                }
            }
        }
    }

    /// <summary>
    /// float32 pixel records (NumPy's (y, x, band)), sixteen pixels a step: one AVX-512 pass
    /// over their records tells whether any value is NaN or nodata; if none, the wanted bands
    /// are transposed out of four-band windows of the records (see <see cref="Window"/>) and
    /// scaled when <typeparamref name="TScaled"/> says so; if some, the sixteen go pixel by
    /// pixel. Records of fewer than four bands are gathered, two 8-lane gathers a band.
    /// Returns the groups of eight done (even).
    /// </summary>
    private static unsafe int Records<TScaled>(float* s, float* d, int groups, int bands, int planeStride, ulong bandMask, in ValueRule rule)
        where TScaled : struct, IStaticFlag
    {
        var wanted = stackalloc int[bands];
        var starts = stackalloc int[bands];
        var outputs = stackalloc int[bands];
        var (n, windows) = PlanWindows(bands, bandMask, wanted, starts, outputs);
        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * bands;
        var noData = Vector512.Create(rule.NoData);
        var hasNoData = rule.HasNoData;
        var step = 16 * bands;
        var g = 0;
        for (; g + 1 < groups; g += 2)
        {
            var px = s + (g * 8L * bands);
            var to = d + (g * 8);

            // The records eight groups ahead. The windows need it as much as the gathers:
            // without it, fast's decode at 4 Mpx took 5.14-5.46 ns/px instead of 3.69-4.01.
            Prefetch((byte*)(px + (PrefetchGroups * 8 * bands)), step * sizeof(float));

            var bad = Vector512<float>.Zero;
            for (var k = 0; k < step; k += 16)
            {
                var v = Vector512.Load(px + k);
                bad |= ~Vector512.Equals(v, v);
                if (hasNoData)
                {
                    bad |= Vector512.Equals(v, noData);
                }
            }

            if (bad != Vector512<float>.Zero)
            {
                Pixels(s, bands, 1, bands, d, planeStride, g * 8, (g + 2) * 8, propagate: true, rule);
                continue;
            }

            if (windows > 0)
            {
                for (var w = 0; w < windows; w++)
                {
                    Window<TScaled>(px + starts[w], to + (starts[w] * (long)planeStride), bands, planeStride, outputs[w], rule);
                }

                continue;
            }

            for (var w = 0; w < n; w++)
            {
                var b = wanted[w];
                var lo = Avx2.GatherVector256(px + b, lanes, 4);
                var hi = Avx2.GatherVector256(px + (8 * bands) + b, lanes, 4);
                if (TScaled.IsSet)
                {
                    lo = rule.Apply(lo);
                    hi = rule.Apply(hi);
                }

                var plane = to + (b * (long)planeStride);
                Vector256.Store(lo, plane);
                Vector256.Store(hi, plane + 8);
            }
        }

        return g;
    }

    /// <summary>
    /// The wanted bands of <paramref name="bandMask"/> (returned count n, in
    /// <paramref name="wanted"/>) and four-band windows covering them (returned count, each's
    /// first band in <paramref name="starts"/> and its wanted bands as bits in
    /// <paramref name="outputs"/>): a band starts a window unless the previous window holds
    /// it; the last window of the record is pulled back to fit. Windows of four bands (float32
    /// records) or <paramref name="size"/>; none in records narrower than a window.
    /// </summary>
    private static unsafe (int Wanted, int Windows) PlanWindows(int bands, ulong bandMask, int* wanted, int* starts, int* outputs, int size = 4)
    {
        var n = 0;
        for (var b = 0; b < bands; b++)
        {
            if ((bandMask >> b & 1) != 0)
            {
                wanted[n++] = b;
            }
        }

        var windows = 0;
        for (var w = 0; w < n && bands >= size; w++)
        {
            var b = wanted[w];
            if (windows == 0 || b > starts[windows - 1] + size - 1)
            {
                starts[windows] = Math.Min(b, bands - size);
                outputs[windows++] = 0;
            }

            outputs[windows - 1] |= 1 << (b - starts[windows - 1]);
        }

        return (n, windows);
    }

    /// <summary>
    /// The AVX2 counterpart of <see cref="Records{TScaled}"/> (processors without AVX-512):
    /// eight pixels a step, records of four to twelve bands (at most three windows; wider
    /// records are gathered), the wanted bands transposed out of four-band windows
    /// (<see cref="Window256{TScaled}"/>) where eight-lane gathers took one instruction a band
    /// and pixel group (on an AMD EPYC of the Zen 3 generation a gather of eight costs about
    /// 4.9 ns, fourteen cycles). Returns the groups of eight done.
    /// <para>
    /// Up to three windows (records of up to twelve bands, every Sentinel-2 model) are held in
    /// locals and taken without a loop, and the group's NaN test (<see cref="Clean{T}"/>) takes
    /// two vectors an instruction. With the windows read from the stack in a loop and one
    /// compare a vector, a group of eight took some 260 instructions; on an AMD EPYC of the
    /// Zen 3 generation 2,048 pixels of ten float32 bands then took 12.3-13.0 us to decode
    /// against 10.9-11.1, their six <c>fast</c> bands 7.8-8.9 against 6.4-6.5
    /// (BenchmarkDotNet, alternating builds).
    /// </para>
    /// <para>
    /// A loop for ten-band records alone, its five prefetches and five NaN compares written
    /// out and the record width a constant, was faster on chunks in the cache and not on
    /// images (same build, switched, alternating, the Zen 3 EPYC): the six <c>fast</c> bands of
    /// 2,048 pixels (BenchmarkDotNet) took 3.1-4.7 us against 4.6-5.9, but the decode stage of
    /// <c>fast</c>'s mask path at 2 Mpx took 4.48, 3.89 and 3.97 ns per pixel against 4.78,
    /// 3.72 and 3.15, and two threads ran 165.2, 142.3 and 164.0 Mpx/s against 157.6, 180.6
    /// and 179.9. Decoding an image waits on memory: one thread reads ten float32 bands at
    /// 240-286 Mpx/s (3.5-4.2 ns per pixel) on that machine. Not kept.
    /// </para>
    /// </summary>
    private static unsafe int Records256<TScaled>(float* s, float* d, int groups, int bands, int planeStride, ulong bandMask, in ValueRule rule)
        where TScaled : struct, IStaticFlag
    {
        var wanted = stackalloc int[bands];
        var starts = stackalloc int[bands];
        var outputs = stackalloc int[bands];
        var (_, windows) = PlanWindows(bands, bandMask, wanted, starts, outputs);
        if (windows is 0 or > 3)
        {
            return 0;
        }

        // Absent windows write nothing (no output bits) and read the first one's records.
        var (s0, s1, s2) = (starts[0], windows > 1 ? starts[1] : starts[0], windows > 2 ? starts[2] : starts[0]);
        var (o0, o1, o2) = (outputs[0], windows > 1 ? outputs[1] : 0, windows > 2 ? outputs[2] : 0);
        var (p0, p1, p2) = (s0 * (long)planeStride, s1 * (long)planeStride, s2 * (long)planeStride);
        var step = 8 * bands;
        for (var g = 0; g < groups; g++)
        {
            var px = s + ((long)g * step);
            var to = d + (g * 8L);

            Prefetch((byte*)(px + (PrefetchGroups * step)), step * sizeof(float));
            if (!Clean(px, step, rule.HasNoData, rule.NoData))
            {
                Pixels(s, bands, 1, bands, d, planeStride, g * 8, (g + 1) * 8, propagate: true, rule);
                continue;
            }

            Window256<TScaled>(px + s0, to + p0, bands, planeStride, o0, rule);
            if (o1 != 0)
            {
                Window256<TScaled>(px + s1, to + p1, bands, planeStride, o1, rule);
            }

            if (o2 != 0)
            {
                Window256<TScaled>(px + s2, to + p2, bands, planeStride, o2, rule);
            }
        }

        return groups;
    }

    /// <summary>
    /// The 128 bits at <paramref name="at"/> of eight pixel records <paramref name="bands"/>
    /// values apart: register k holds pixel k's in its lower lane and pixel 4 + k's in its upper.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector256<T> R0, Vector256<T> R1, Vector256<T> R2, Vector256<T> R3) Halves<T>(T* at, int bands)
        where T : unmanaged
    {
        var step = 4 * bands;
        return (
            Vector256.Create(Vector128.Load(at), Vector128.Load(at + step)),
            Vector256.Create(Vector128.Load(at + bands), Vector128.Load(at + bands + step)),
            Vector256.Create(Vector128.Load(at + (2 * bands)), Vector128.Load(at + (2 * bands) + step)),
            Vector256.Create(Vector128.Load(at + (3 * bands)), Vector128.Load(at + (3 * bands) + step)));
    }

    /// <summary>
    /// 16-bit pixel records (NumPy's (y, x, band) of DN, unsigned or signed), eight pixels a
    /// step, records of eight bands or more, with AVX2: the wanted bands are transposed out of
    /// eight-band windows (one 128-bit load per pixel and window) and widened, converted and
    /// scaled as the plane-by-plane path does, where eight-lane gathers took one instruction
    /// a band and pixel group: ten bands of 2,048 pixels took 11.9-17.8 us against 25.9-31.2
    /// (BenchmarkDotNet, AMD EPYC Zen 3, two runs). With <paramref name="propagate"/>, a group
    /// holding a nodata value (<see cref="Clean{T}"/>) goes pixel by pixel. Returns the groups
    /// of eight done.
    /// </summary>
    private static unsafe int Records16<T>(T* s, float* d, int groups, int bands, int planeStride, ulong bandMask, bool propagate, in ValueRule rule)
        where T : unmanaged, INumberBase<T>
    {
        var wanted = stackalloc int[bands];
        var starts = stackalloc int[bands];
        var outputs = stackalloc int[bands];
        var (_, windows) = PlanWindows(bands, bandMask, wanted, starts, outputs, size: 8);
        if (windows == 0)
        {
            return 0;
        }

        var signed = typeof(T) == typeof(short);
        var step = 8 * bands;
        for (var g = 0; g < groups; g++)
        {
            var px = s + ((long)g * step);
            var to = d + (g * 8L);
            Prefetch((byte*)(px + (PrefetchGroups * step)), step * sizeof(short));
            if (propagate && !Clean(px, step, rule.HasNoData, rule.NoData))
            {
                Pixels(px, bands, 1, bands, to, planeStride, 0, 8, propagate: true, rule);
                continue;
            }

            for (var w = 0; w < windows; w++)
            {
                Window16((short*)px + starts[w], to + (starts[w] * (long)planeStride), bands, planeStride, outputs[w], signed, rule);
            }
        }

        return groups;
    }

    /// <summary>
    /// Bands <c>at[0..7]</c> of eight 16-bit pixel records <paramref name="bands"/> values
    /// apart, written as float32 to the planes from <paramref name="to"/> on (those bits of
    /// <paramref name="outputs"/> only): register k holds the window of pixels k and 4 + k in
    /// its two 128-bit lanes; two rounds of unpacks leave band j of pixels 4i .. 4i + 3 in
    /// 64-bit element j % 2 of lane i of register j / 2, from where one permute, one widening
    /// and one conversion make band j's eight floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Window16(short* at, float* to, int bands, int planeStride, int outputs, bool signed, in ValueRule rule)
    {
        var (r0, r1, r2, r3) = Halves(at, bands);
        if ((outputs & 0x0F) != 0)
        {
            var (t0, t1) = (Avx2.UnpackLow(r0, r1).AsInt32(), Avx2.UnpackLow(r2, r3).AsInt32());
            Pair(Avx2.UnpackLow(t0, t1), to, 0, outputs, planeStride, signed, rule);
            Pair(Avx2.UnpackHigh(t0, t1), to, 2, outputs, planeStride, signed, rule);
        }

        if ((outputs & 0xF0) != 0)
        {
            var (t2, t3) = (Avx2.UnpackHigh(r0, r1).AsInt32(), Avx2.UnpackHigh(r2, r3).AsInt32());
            Pair(Avx2.UnpackLow(t2, t3), to, 4, outputs, planeStride, signed, rule);
            Pair(Avx2.UnpackHigh(t2, t3), to, 6, outputs, planeStride, signed, rule);
        }

        // Bands j and j + 1 of the eight pixels: 64-bit elements 0 and 2, then 1 and 3.
        static void Pair(Vector256<int> u, float* to, int j, int outputs, int planeStride, bool signed, in ValueRule rule)
        {
            if ((outputs >> j & 1) != 0)
            {
                Store(Avx2.Permute4x64(u.AsInt64(), 0b10_00).GetLower().AsInt16(), to + (j * (long)planeStride), signed, rule);
            }

            if ((outputs >> (j + 1) & 1) != 0)
            {
                Store(Avx2.Permute4x64(u.AsInt64(), 0b11_01).GetLower().AsInt16(), to + ((j + 1) * (long)planeStride), signed, rule);
            }
        }

        static void Store(Vector128<short> v, float* to, bool signed, in ValueRule rule)
        {
            var wide = signed ? Avx2.ConvertToVector256Int32(v) : Avx2.ConvertToVector256Int32(v.AsUInt16());
            rule.Apply(Avx.ConvertToVector256Single(wide)).Store(to);
        }
    }

    /// <summary>
    /// Bands <c>at[0..3]</c> of eight pixel records <paramref name="bands"/> floats apart,
    /// written to the planes from <paramref name="to"/> on (those bits of
    /// <paramref name="outputs"/> only): register k takes the window of pixels k and 4 + k in
    /// its two 128-bit lanes, and a 4 x 4 transpose inside each lane leaves band j of pixels
    /// 4i .. 4i + 3 in lane i of output j (as <see cref="Window{TScaled}"/> with half the lanes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Window256<TScaled>(float* at, float* to, int bands, int planeStride, int outputs, in ValueRule rule)
        where TScaled : struct, IStaticFlag
    {
        var (r0, r1, r2, r3) = Halves(at, bands);
        if ((outputs & 0b0011) != 0)
        {
            var t0 = Avx.UnpackLow(r0, r1).AsDouble();
            var t2 = Avx.UnpackLow(r2, r3).AsDouble();
            if ((outputs & 0b0001) != 0)
            {
                Store(Avx.UnpackLow(t0, t2).AsSingle(), to, rule);
            }

            if ((outputs & 0b0010) != 0)
            {
                Store(Avx.UnpackHigh(t0, t2).AsSingle(), to + planeStride, rule);
            }
        }

        if ((outputs & 0b1100) != 0)
        {
            var t1 = Avx.UnpackHigh(r0, r1).AsDouble();
            var t3 = Avx.UnpackHigh(r2, r3).AsDouble();
            if ((outputs & 0b0100) != 0)
            {
                Store(Avx.UnpackLow(t1, t3).AsSingle(), to + (2L * planeStride), rule);
            }

            if ((outputs & 0b1000) != 0)
            {
                Store(Avx.UnpackHigh(t1, t3).AsSingle(), to + (3L * planeStride), rule);
            }
        }

        static void Store(Vector256<float> v, float* to, in ValueRule rule)
        {
            (TScaled.IsSet ? rule.Apply(v) : v).Store(to);
        }
    }

    /// <summary>
    /// Bands <c>at[0..3]</c> of sixteen pixel records <paramref name="bands"/> floats apart,
    /// written to the planes from <paramref name="to"/> on (those bits of
    /// <paramref name="outputs"/> only). Register k takes the window of pixels k, 4 + k,
    /// 8 + k and 12 + k in its four 128-bit lanes; a 4 x 4 transpose inside each lane then
    /// leaves band j of pixels 4i .. 4i + 3 in lane i of output j: sixteen loads and at most
    /// eight shuffles where eight-lane gathers took two instructions a band.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Window<TScaled>(float* at, float* to, int bands, int planeStride, int outputs, in ValueRule rule)
        where TScaled : struct, IStaticFlag
    {
        var r0 = Lanes(at, bands);
        var r1 = Lanes(at + bands, bands);
        var r2 = Lanes(at + (2 * bands), bands);
        var r3 = Lanes(at + (3 * bands), bands);
        if ((outputs & 0b0011) != 0)
        {
            var t0 = Avx512F.UnpackLow(r0, r1).AsDouble();
            var t2 = Avx512F.UnpackLow(r2, r3).AsDouble();
            if ((outputs & 0b0001) != 0)
            {
                Store<TScaled>(Avx512F.UnpackLow(t0, t2).AsSingle(), to, rule);
            }

            if ((outputs & 0b0010) != 0)
            {
                Store<TScaled>(Avx512F.UnpackHigh(t0, t2).AsSingle(), to + planeStride, rule);
            }
        }

        if ((outputs & 0b1100) != 0)
        {
            var t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
            var t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
            if ((outputs & 0b0100) != 0)
            {
                Store<TScaled>(Avx512F.UnpackLow(t1, t3).AsSingle(), to + (2L * planeStride), rule);
            }

            if ((outputs & 0b1000) != 0)
            {
                Store<TScaled>(Avx512F.UnpackHigh(t1, t3).AsSingle(), to + (3L * planeStride), rule);
            }
        }

        static Vector512<float> Lanes(float* p, int bands)
        {
            var step = 4 * bands;
            return Vector512.Create(
                Vector256.Create(Vector128.Load(p), Vector128.Load(p + step)),
                Vector256.Create(Vector128.Load(p + (2 * step)), Vector128.Load(p + (3 * step))));
        }

        static void Store<T>(Vector512<float> v, float* to, in ValueRule rule)
            where T : struct, IStaticFlag
        {
            if (T.IsSet)
            {
                v = Vector512.Create(rule.Apply(v.GetLower()), rule.Apply(v.GetUpper()));
            }

            v.Store(to);
        }
    }

    /// <summary>Off takes 16-bit pixel records by gathers (tests and benchmarks compare the two paths).</summary>
    internal static bool UseRecords16 { get; set; } = true;

    /// <summary>Off decodes pixel by pixel everywhere (benchmarks compare the two paths).</summary>
    internal static bool UseVectors { get; set; } = true;

    /// <summary>Off takes the AVX2 record path where AVX-512 would run (tests check both on AVX-512 machines).</summary>
    internal static bool UseAvx512 { get; set; } = true;

    /// <summary>
    /// How many groups of eight pixels ahead the decoder prefetches. On the Zen 3 EPYC,
    /// <c>fast</c>'s mask path on two threads (4 Mpx, three alternating rounds, one build
    /// switched) ran 201.5, 209.1 and 170.1 Mpx/s with 8, 186.2, 180.9 and 201.4 with 32, and
    /// 174.9, 180.3 and 180.8 without prefetching.
    /// </summary>
    private const int PrefetchGroups = 8;

    /// <summary>Asks for the cache lines of <paramref name="bytes"/> from <paramref name="ahead"/> on (a hint: never faults, even past the end of the data).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(byte* ahead, int bytes)
    {
        for (var line = 0; line < bytes; line += 64)
        {
            Sse.Prefetch0(ahead + line);
        }
    }

    /// <summary>One band of eight pixels: gathered, then <see cref="ValueRule.Apply(Vector256{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Band<T>(T* px, Vector256<int> idx, in ValueRule rule)
        where T : unmanaged
    {
        Vector256<float> v;
        if (typeof(T) == typeof(float))
        {
            v = Avx2.GatherVector256((float*)px, idx, 4);
        }
        else
        {
            var w = Avx2.GatherVector256((int*)px, idx, 2);
            w = typeof(T) == typeof(ushort)
                ? w & Vector256.Create(0xFFFF)
                : Avx2.ShiftRightArithmetic(Avx2.ShiftLeftLogical(w, 16), 16);
            v = Avx.ConvertToVector256Single(w);
        }

        return rule.Apply(v);
    }

    /// <summary>
    /// What the gathered path does to each stored value, in the order and float32 arithmetic
    /// of the plane-by-plane passes: nodata to NaN, add the offset, then divide by the whole
    /// divisor or multiply by the scale.
    /// </summary>
    private readonly struct ValueRule
    {
        public ValueRule(in Scaling scaling)
        {
            HasNoData = scaling.NoData is { } nd && !double.IsNaN(nd);
            NoData = HasNoData ? (float)scaling.NoData!.Value : 0f;
            Offset = (float)scaling.Offset;
            Divisor = scaling.IsIdentity ? 0f : scaling.Divisor;
            Scale = scaling.IsIdentity || Divisor != 0 ? 1f : (float)scaling.Scale;
        }

        public bool HasNoData { get; }

        /// <summary>Values pass unchanged but for nodata (no offset, no scale).</summary>
        public bool IsPlain => Offset == 0 && Divisor == 0 && Scale == 1;

        public float NoData { get; }

        private float Offset { get; }

        private float Divisor { get; }

        private float Scale { get; }

        public float Apply(float v)
        {
            v = HasNoData && v == NoData ? float.NaN : v;
            v = Offset != 0 ? v + Offset : v;
            return Divisor != 0 ? v / Divisor : Scale != 1 ? v * Scale : v;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Apply(Vector256<float> v)
        {
            if (HasNoData)
            {
                v = Vector256.ConditionalSelect(Vector256.Equals(v, Vector256.Create(NoData)), Vector256.Create(float.NaN), v);
            }

            if (Offset != 0)
            {
                v += Vector256.Create(Offset);
            }

            if (Divisor != 0)
            {
                v /= Vector256.Create(Divisor);
            }
            else if (Scale != 1)
            {
                v *= Vector256.Create(Scale);
            }

            return v;
        }
    }

    /// <summary>
    /// True when none of <paramref name="n"/> stored values (n a multiple of 8) is NaN or the
    /// nodata value: then no band of those pixels decodes to NaN (offset and scale are finite).
    /// Floats are tested two vectors an instruction (unordered compares).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe bool Clean<T>(T* values, int n, bool hasNoData, float noData)
        where T : unmanaged, INumberBase<T>
    {
        if (typeof(T) == typeof(float))
        {
            var x = (float*)values;
            var bad = Vector256<float>.Zero;
            var i = 0;
            for (; i + 16 <= n; i += 16)
            {
                bad |= Avx.CompareUnordered(Vector256.Load(x + i), Vector256.Load(x + i + 8));
            }

            if (i < n)
            {
                var v = Vector256.Load(x + i);
                bad |= ~Vector256.Equals(v, v);
            }

            return bad == Vector256<float>.Zero && (!hasNoData || !Holds(values, n, T.CreateTruncating(noData)));
        }

        // Integers are never NaN; compared with nodata as the decoder does, after conversion.
        if (!hasNoData)
        {
            return true;
        }

        var nd = T.CreateTruncating(noData);
        return float.CreateTruncating(nd) != noData || !Holds(values, n, nd); // else no stored value converts to it
    }

    /// <summary>Whether any of <paramref name="n"/> values (n a multiple of 8) equals <paramref name="value"/>, 32 bytes a compare.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe bool Holds<T>(T* values, int n, T value)
        where T : unmanaged
    {
        var hit = Vector256<T>.Zero;
        var wanted = Vector256.Create(value);
        var i = 0;
        for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
        {
            hit |= Vector256.Equals(Vector256.Load(values + i), wanted);
        }

        // 16-bit values: eight left over when n is an odd multiple of 8.
        return hit != Vector256<T>.Zero || (i < n && Vector128.Equals(Vector128.Load(values + i), wanted.GetLower()) != Vector128<T>.Zero);
    }

    private static void Convert<T>(ReadOnlySpan<T> src, Span<float> dest)
        where T : unmanaged, INumberBase<T>
    {
        if (typeof(T) == typeof(float))
        {
            MemoryMarshal.Cast<T, float>(src).CopyTo(dest);
            return;
        }

        for (var i = 0; i < dest.Length; i++)
        {
            dest[i] = float.CreateTruncating(src[i]);
        }
    }

    /// <summary>NaN where a value equals the nodata value.</summary>
    private static void MarkNoData(Span<float> plane, float noData)
    {
        var i = 0;
        var nd = Vector256.Create(noData);
        var nan = Vector256.Create(float.NaN);
        for (; i <= plane.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var slot = plane.Slice(i, Vector256<float>.Count);
            var v = Vector256.Create(slot);
            Vector256.ConditionalSelect(Vector256.Equals(v, nd), nan, v).CopyTo(slot);
        }

        for (; i < plane.Length; i++)
        {
            if (plane[i] == noData)
            {
                plane[i] = float.NaN;
            }
        }
    }

    /// <summary>Sets every band of a pixel to NaN when any one band is NaN.</summary>
    internal static void PropagateNoData(Span<float> planes, int bands, int count, int planeStride)
    {
        var i = 0;
        var nan = Vector256.Create(float.NaN);
        for (; i <= count - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var bad = Vector256<float>.Zero;
            for (var b = 0; b < bands; b++)
            {
                var v = Vector256.Create(planes.Slice((b * planeStride) + i, Vector256<float>.Count));
                bad |= ~Vector256.Equals(v, v);
            }

            if (bad != Vector256<float>.Zero)
            {
                for (var b = 0; b < bands; b++)
                {
                    var slot = planes.Slice((b * planeStride) + i, Vector256<float>.Count);
                    Vector256.ConditionalSelect(bad, nan, Vector256.Create(slot)).CopyTo(slot);
                }
            }
        }

        for (; i < count; i++)
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
