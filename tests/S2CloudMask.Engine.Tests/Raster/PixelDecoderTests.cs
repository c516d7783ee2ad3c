using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Engine.Tests.Raster;

public sealed class PixelDecoderTests
{
    [Fact]
    public void IntegerDnIsDividedBy10000WithOffsetApplied()
    {
        // 2 x 1 pixels, 2 bands, interleaved (y, x, band).
        var img = BandImage.Interleaved(Bytes<ushort>([3000, 1500, 2000, 1000]), ElementType.UInt16, 1, 2, 2);
        var planes = new float[4];
        PixelDecoder.Decode(img, Scaling.Resolve(ElementType.UInt16, offset: Scaling.Baseline0400Offset), 0, 2, planes, 2);
        Assert.Equal([0.2f, 0.1f, 0.05f, 0f], planes);
    }

    [Fact]
    public void NoDataInOneBandMakesWholePixelNaN()
    {
        var img = BandImage.Interleaved(Bytes<ushort>([0, 1500, 2000, 1000]), ElementType.UInt16, 1, 2, 2);
        var planes = new float[4];
        PixelDecoder.Decode(img, Scaling.Resolve(ElementType.UInt16), 0, 2, planes, 2);
        Assert.True(float.IsNaN(planes[0]));
        Assert.True(float.IsNaN(planes[2]));
        Assert.Equal(0.2f, planes[1]);
        Assert.Equal(0.1f, planes[3]);
    }

    [Fact]
    public void FloatNaNBandMakesWholePixelNaNAndFloatsAreTakenAsReflectance()
    {
        var img = BandImage.Interleaved(Bytes<float>([0.1f, float.NaN, 0.3f, 0.4f]), ElementType.Float32, 1, 2, 2);
        var planes = new float[4];
        PixelDecoder.Decode(img, Scaling.Resolve(ElementType.Float32), 0, 2, planes, 2);
        Assert.True(float.IsNaN(planes[0]) && float.IsNaN(planes[2]));
        Assert.Equal([0.3f, 0.4f], new[] { planes[1], planes[3] });
    }

    [Fact]
    public void PlanarAndInterleavedLayoutsDecodeAlike()
    {
        // 2 x 3 image, 2 bands.
        float[] interleaved = [1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60];
        float[] planar = [1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60];
        var a = new float[12];
        var b = new float[12];
        PixelDecoder.Decode(BandImage.Interleaved(Bytes(interleaved), ElementType.Float32, 2, 3, 2), Scaling.Identity, 0, 6, a, 6);
        PixelDecoder.Decode(BandImage.Planar(Bytes(planar), ElementType.Float32, 2, 2, 3), Scaling.Identity, 0, 6, b, 6);
        Assert.Equal(planar, a);
        Assert.Equal(planar, b);
    }

    [Fact]
    public void StackDateViewReadsThatDate()
    {
        // (y=1, x=2, band=2, time=3): value = 100*x + 10*band + t.
        var values = new float[12];
        for (var x = 0; x < 2; x++)
        {
            for (var b = 0; b < 2; b++)
            {
                for (var t = 0; t < 3; t++)
                {
                    values[(((x * 2) + b) * 3) + t] = (100 * x) + (10 * b) + t;
                }
            }
        }

        var stack = new BandStack(NdArray.Create(values, 1, 2, 2, 3));
        var planes = new float[4];
        PixelDecoder.Decode(stack.Date(2), Scaling.Identity, 0, 2, planes, 2);
        Assert.Equal([2f, 102f, 12f, 112f], planes);
    }

    /// <summary>
    /// The gathered path (interleaved images, stack dates: eight pixels per step, 16-bit
    /// values read as 32-bit words) against the plane-by-plane path on the same values, with
    /// nodata, NaN, an offset and scaling, over ranges that end in a partial group and at
    /// the very end of the data.
    /// </summary>
    [Theory]
    [InlineData(ElementType.Float32, false)]
    [InlineData(ElementType.Float32, true)]
    [InlineData(ElementType.UInt16, false)]
    [InlineData(ElementType.UInt16, true)]
    [InlineData(ElementType.Int16, false)]
    [InlineData(ElementType.Int16, true)]
    public void GatheredLayoutsDecodeLikePlanes(ElementType type, bool stackDate)
    {
        const int H = 5, W = 13, B = 10, T = 3, Date = 1;
        var rng = new Random(7);
        var dn = new int[H * W * B];
        for (var i = 0; i < dn.Length; i++)
        {
            dn[i] = rng.Next(60) == 0 ? 1000 : rng.Next(type == ElementType.Int16 ? -3000 : 0, 12000);
        }

        dn[(17 * B) + 4] = 0; // nodata in one band: the whole pixel goes

        // (y, x, band) or (y, x, band, time) holding dn at the chosen date, and (band, y, x).
        var len = stackDate ? dn.Length * T : dn.Length;
        byte[] strided, planar;
        switch (type)
        {
            case ElementType.Float32:
                strided = Layout<float>(dn, len, stackDate, v => v == 1000 ? float.NaN : v / 10000f);
                planar = Planes<float>(dn, v => v == 1000 ? float.NaN : v / 10000f);
                break;
            case ElementType.UInt16:
                strided = Layout<ushort>(dn, len, stackDate, v => (ushort)v);
                planar = Planes<ushort>(dn, v => (ushort)v);
                break;
            default:
                strided = Layout<short>(dn, len, stackDate, v => (short)v);
                planar = Planes<short>(dn, v => (short)v);
                break;
        }

        var image = stackDate
            ? new BandStack(new NdArray(type, [H, W, B, T], strided)).Date(Date)
            : BandImage.Interleaved(strided, type, H, W, B);
        var planes = BandImage.Planar(planar, type, B, H, W);
        var scaling = type == ElementType.Float32
            ? Scaling.Resolve(type)
            : Scaling.Resolve(type, offset: Scaling.Baseline0400Offset, noData: 0);
        foreach (var (first, count) in new[] { (0, H * W), (3, 50), (H * W - 21, 21), (H * W - 7, 7) })
        {
            foreach (var propagate in new[] { true, false })
            {
                var a = new float[B * count];
                var b = new float[B * count];
                PixelDecoder.Decode(image, scaling, first, count, a, count, propagate);
                PixelDecoder.Decode(planes, scaling, first, count, b, count, propagate);
                Assert.Equal(b, a);

                // A subset of the bands: those planes alike, nodata in the others still counts.
                const ulong Mask = 0b1000100101;
                var c = new float[B * count];
                c.AsSpan().Fill(-7);
                PixelDecoder.Decode(image, scaling, first, count, c, count, propagate, Mask);
                for (var band = 0; band < B; band++)
                {
                    var plane = c.AsSpan(band * count, count);
                    if ((Mask >> band & 1) != 0)
                    {
                        Assert.Equal(b.AsSpan(band * count, count), plane);
                    }
                }
            }
        }

        byte[] Layout<TValue>(int[] values, int length, bool stack, Func<int, TValue> convert)
            where TValue : unmanaged
        {
            var data = new TValue[length];
            for (var i = 0; i < values.Length; i++)
            {
                data[stack ? (i * T) + Date : i] = convert(values[i]);
            }

            return Bytes(data);
        }

        byte[] Planes<TValue>(int[] values, Func<int, TValue> convert)
            where TValue : unmanaged
        {
            var data = new TValue[values.Length];
            for (var i = 0; i < values.Length; i++)
            {
                data[((i % B) * H * W) + (i / B)] = convert(values[i]);
            }

            return Bytes(data);
        }
    }

    /// <summary>
    /// float32 pixel records, sixteen pixels a step: clean runs (only the wanted bands read,
    /// scaled or not) and runs with one NaN or nodata value (the whole pixel NaN, its
    /// neighbours intact), against the plane-by-plane path.
    /// </summary>
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void FloatRecordsDecodeLikePlanes(bool scaled, bool avx512)
    {
        using var _ = Avx512Records(avx512);
        const int N = 100, B = 10;
        var rng = new Random(scaled ? 3 : 4);
        var (records, planar) = Layouts(N, B, () => scaled ? rng.Next(1, 12000) : (float)rng.NextDouble());

        void Set(int pixel, int band, float v) => records[(pixel * B) + band] = planar[(band * N) + pixel] = v;
        Set(20, 3, float.NaN);
        Set(37, 9, scaled ? 0 : float.NaN);
        Set(70, 0, scaled ? 0 : float.NaN);

        var image = BandImage.Interleaved(Bytes(records), ElementType.Float32, 1, N, B);
        var planes = BandImage.Planar(Bytes(planar), ElementType.Float32, B, 1, N);
        var scaling = scaled ? new Scaling(1e-4, Scaling.Baseline0400Offset, 0) : Scaling.Identity;
        foreach (var (first, count) in new[] { (0, N), (5, 64), (32, 33), (48, 16) })
        {
            var expected = new float[B * count];
            PixelDecoder.Decode(planes, scaling, first, count, expected, count, propagateNoData: true);
            Assert.Contains(expected, v => !float.IsNaN(v));
            foreach (var mask in new[] { ulong.MaxValue, 0b1100011110UL })
            {
                var actual = new float[B * count];
                actual.AsSpan().Fill(-7);
                PixelDecoder.Decode(image, scaling, first, count, actual, count, propagateNoData: true, mask);
                for (var band = 0; band < B; band++)
                {
                    if ((mask >> band & 1) != 0)
                    {
                        Assert.Equal(expected.AsSpan(band * count, count), actual.AsSpan(band * count, count));
                    }
                }
            }
        }
    }

    /// <summary>
    /// Records of other band counts, with wanted bands scattered so that four-band windows
    /// start at a wanted band, are pulled back to fit the record, or overlap the one before
    /// (and records of two or three bands, which are gathered), one pixel NaN in its last band:
    /// every wanted plane as the plane-by-plane path writes it, and no other plane touched.
    /// </summary>
    [Theory]
    [InlineData(2, 0b10UL, true)]
    [InlineData(3, 0b101UL, true)]
    [InlineData(4, 0b1111UL, true)]
    [InlineData(4, 0b0100UL, true)]
    [InlineData(5, 0b10001UL, true)]
    [InlineData(7, 0b1100101UL, true)]
    [InlineData(10, 0b1100001111UL, true)]
    [InlineData(10, 0b1001000010UL, true)]
    [InlineData(13, 0b1010010110011UL, true)]
    [InlineData(13, ulong.MaxValue, true)]
    [InlineData(4, 0b0100UL, false)]
    [InlineData(5, 0b10001UL, false)]
    [InlineData(7, 0b1100101UL, false)]
    [InlineData(10, 0b1100001111UL, false)]
    [InlineData(13, ulong.MaxValue, false)]
    public void RecordsOfAnyWidthDecodeTheWantedBands(int bands, ulong mask, bool avx512)
    {
        using var _ = Avx512Records(avx512);
        const int N = 70;
        var rng = new Random(bands);
        var (records, planar) = Layouts(N, bands, () => (float)rng.NextDouble());

        // One undefined pixel, its last band NaN: the last float of its group of eight.
        records[(15 * bands) + bands - 1] = planar[((bands - 1) * N) + 15] = float.NaN;

        var image = BandImage.Interleaved(Bytes(records), ElementType.Float32, 1, N, bands);
        var planes = BandImage.Planar(Bytes(planar), ElementType.Float32, bands, 1, N);
        var expected = new float[bands * N];
        PixelDecoder.Decode(planes, Scaling.Identity, 0, N, expected, N, propagateNoData: true);
        var actual = new float[bands * N];
        actual.AsSpan().Fill(-7);
        PixelDecoder.Decode(image, Scaling.Identity, 0, N, actual, N, propagateNoData: true, mask);
        for (var b = 0; b < bands; b++)
        {
            var plane = actual.AsSpan(b * N, N);
            if ((mask >> b & 1) != 0)
            {
                Assert.Equal(expected.AsSpan(b * N, N), plane);
            }
            else
            {
                // The sixteen-pixel steps write wanted bands only (the tail, and the step
                // holding the undefined pixel, which goes pixel by pixel, may write all).
                Assert.All(plane[16..64].ToArray(), v => Assert.Equal(-7, v));
            }
        }
    }

    /// <summary>
    /// 16-bit records of other widths (eight-band windows pulled back to fit, overlapping, or
    /// an odd width whose group ends in half a vector), values over the whole range of the
    /// type, and nodata as the last value of a group (the whole pixel NaN, or that value
    /// alone without propagation): the records path and the gathers give what the
    /// plane-by-plane path gives, every wanted band.
    /// </summary>
    [Theory]
    [InlineData(ElementType.UInt16, 8, ulong.MaxValue)]
    [InlineData(ElementType.UInt16, 9, 0b100000001UL)]
    [InlineData(ElementType.UInt16, 13, 0b1010010110011UL)]
    [InlineData(ElementType.Int16, 9, ulong.MaxValue)]
    [InlineData(ElementType.Int16, 10, 0b1100001111UL)]
    [InlineData(ElementType.Int16, 13, ulong.MaxValue)]
    [InlineData(ElementType.UInt16, 300, ulong.MaxValue)] // a 30-date stack's channels, as the geomedian reads them
    public void SixteenBitRecordsOfAnyWidthDecodeLikePlanes(ElementType type, int bands, ulong mask)
    {
        const int N = 70;
        const int NoData = 12345;
        var rng = new Random(bands);
        var (records, planar) = Layouts(N, bands, () =>
        {
            var v = (short)rng.Next(short.MinValue, short.MaxValue + 1); // as ushort: 0 .. 65535
            return v == NoData ? (short)0 : v;
        });

        records[(15 * bands) + bands - 1] = planar[((bands - 1) * N) + 15] = NoData; // the last value of pixels 8-15
        var image = BandImage.Interleaved(Bytes(records), type, 1, N, bands);
        var planes = BandImage.Planar(Bytes(planar), type, bands, 1, N);
        var scaling = Scaling.Resolve(type, offset: Scaling.Baseline0400Offset, noData: NoData);
        foreach (var (records16, propagate) in new[] { (true, true), (false, true), (true, false) })
        {
            var expected = new float[bands * N];
            PixelDecoder.Decode(planes, scaling, 0, N, expected, N, propagate);
            Assert.Equal(propagate, float.IsNaN(expected[15]));
            PixelDecoder.UseRecords16 = records16;
            try
            {
                var actual = new float[bands * N];
                PixelDecoder.Decode(image, scaling, 0, N, actual, N, propagate, mask);
                for (var b = 0; b < bands; b++)
                {
                    if ((mask >> b & 1) != 0)
                    {
                        Assert.Equal(expected.AsSpan(b * N, N), actual.AsSpan(b * N, N));
                    }
                }
            }
            finally
            {
                PixelDecoder.UseRecords16 = true;
            }
        }
    }

    /// <summary>
    /// Band planes (GDAL's reads) sixteen pixels a step against the plane-by-plane passes
    /// (vectors off): nodata in one band of a step (the whole pixel NaN, or that band alone
    /// without propagation), NaN floats, scaled and unscaled values, ranges that start inside
    /// a step and end in a partial one, and a subset of the bands.
    /// </summary>
    [Theory]
    [InlineData(ElementType.UInt16, false)]
    [InlineData(ElementType.UInt16, true)]
    [InlineData(ElementType.Int16, true)]
    [InlineData(ElementType.Float32, false)]
    [InlineData(ElementType.Float32, true)]
    public void PlanesDecodeLikeThePlaneByPlanePasses(ElementType type, bool scaled)
    {
        const int H = 3, W = 37, B = 10, NoData = 7777;
        var n = H * W;
        var rng = new Random(W + (int)type);
        var dn = Enumerable.Range(0, n * B).Select(_ => rng.Next(type == ElementType.Int16 ? -3000 : 0, 12000)).ToArray();
        dn[(4 * n) + 20] = NoData; // band 4 of pixel 20
        dn[(9 * n) + 47] = NoData; // the last band of pixel 47
        dn[(0 * n) + 110] = NoData; // the first band of the last pixel
        byte[] planar = type switch
        {
            ElementType.Float32 => Bytes(dn.Select((v, i) => i == (2 * n) + 64 ? float.NaN : v / 10000f).ToArray()),
            ElementType.UInt16 => Bytes(dn.Select(v => (ushort)v).ToArray()),
            _ => Bytes(dn.Select(v => (short)v).ToArray()),
        };
        var image = BandImage.Planar(planar, type, B, H, W);
        var scaling = type == ElementType.Float32
            ? Scaling.Resolve(type, scale: scaled ? 0.5 : null, noData: NoData / 10000f)
            : Scaling.Resolve(type, offset: scaled ? Scaling.Baseline0400Offset : null, noData: NoData);
        foreach (var (first, count) in new[] { (0, n), (5, 40), (n - 17, 17), (100, 11), (16, 32) })
        {
            foreach (var propagate in new[] { true, false })
            {
                foreach (var mask in new[] { ulong.MaxValue, 0b1100001111UL })
                {
                    var expected = new float[B * count];
                    PixelDecoder.UseVectors = false;
                    try
                    {
                        PixelDecoder.Decode(image, scaling, first, count, expected, count, propagate, mask);
                    }
                    finally
                    {
                        PixelDecoder.UseVectors = true;
                    }

                    var actual = new float[B * count];
                    PixelDecoder.Decode(image, scaling, first, count, actual, count, propagate, mask);
                    for (var b = 0; b < B; b++)
                    {
                        if ((mask >> b & 1) != 0)
                        {
                            Assert.Equal(expected.AsSpan(b * count, count), actual.AsSpan(b * count, count));
                        }
                    }

                    if (first == 0 && count == n)
                    {
                        Assert.Equal(propagate, float.IsNaN(actual[20])); // band 0 of pixel 20, nodata in band 4
                        Assert.True(mask != ulong.MaxValue || float.IsNaN(actual[(4 * n) + 20]));
                    }
                }
            }
        }
    }

    /// <summary>
    /// The same values of <paramref name="n"/> pixels in both layouts, drawn pixel by pixel:
    /// as pixel records (band fastest) and as band planes.
    /// </summary>
    private static (T[] Records, T[] Planar) Layouts<T>(int n, int bands, Func<T> value)
    {
        var records = new T[n * bands];
        var planar = new T[n * bands];
        for (var i = 0; i < n; i++)
        {
            for (var b = 0; b < bands; b++)
            {
                records[(i * bands) + b] = planar[(b * n) + i] = value();
            }
        }

        return (records, planar);
    }

    /// <summary>
    /// Switches the AVX-512 record path off (the AVX2 one runs; results must not differ, so
    /// tests running beside this one are not disturbed) until disposed.
    /// </summary>
    private static Switch Avx512Records(bool on)
    {
        PixelDecoder.UseAvx512 = on;
        return new Switch();
    }

    private readonly struct Switch : IDisposable
    {
        public void Dispose() => PixelDecoder.UseAvx512 = true;
    }

    [Fact]
    public void NonPositiveScaleIsRejected()
    {
        var e = Assert.Throws<InvalidInputException>(() => Scaling.Resolve(ElementType.UInt16, scale: 0));
        Assert.Equal("bad-scaling", e.Code);
    }

    private static byte[] Bytes<T>(T[] values)
        where T : unmanaged => NdArray.Create(values, values.Length).Data;
}
