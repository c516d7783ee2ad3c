using S2CloudMask.Engine.Gdal;

namespace S2CloudMask.Engine.Tests.Gdal;

public class GdalDatasetReadTests
{
    private const int Size = 64;
    private const int Factor = 4;
    private const int Out = Size / Factor;

    /// <summary>value(x, y) = x + 1000 y: linear, so any symmetric kernel reproduces it exactly.</summary>
    private static GdalDataset Gradient()
    {
        var values = new float[Size * Size];
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                values[(y * Size) + x] = x + (1000 * y);
            }
        }

        var ds = GdalDataset.CreateInMemory(Size, Size, 1, GdalDataType.Float32);
        ds.Write(1, 0, 0, Size, Size, values.AsSpan());
        return ds;
    }

    [Fact]
    public void AverageDownsamplingGivesBlockMeans()
    {
        using var ds = Gradient();
        var dest = new float[Out * Out];

        ds.Read(1, 0, 0, Size, Size, dest.AsSpan(), Out, Out, Resampling.Average);

        for (var j = 0; j < Out; j++)
        {
            for (var i = 0; i < Out; i++)
            {
                // Mean of x over 4i..4i+3 is 4i + 1.5; likewise for y.
                Assert.Equal((Factor * i) + 1.5f + (1000 * ((Factor * j) + 1.5f)), dest[(j * Out) + i]);
            }
        }
    }

    [Fact]
    public void BilinearDownsamplingInterpolatesAtOutputPixelCentres()
    {
        using var ds = Gradient();
        var dest = new float[Out * Out];

        ds.Read(1, 0, 0, Size, Size, dest.AsSpan(), Out, Out, Resampling.Bilinear);

        // GDAL widens the bilinear kernel by the decimation factor, so at the border it is cut
        // off and no longer symmetric; inside, the linear ramp comes back at the centres.
        for (var j = 1; j < Out - 1; j++)
        {
            for (var i = 1; i < Out - 1; i++)
            {
                Assert.Equal((Factor * i) + 1.5f + (1000 * ((Factor * j) + 1.5f)), dest[(j * Out) + i], 0.01f);
            }
        }
    }

    [Fact]
    public void NearestDownsamplingPicksThePixelUnderEachOutputCentre()
    {
        using var ds = Gradient();
        var dest = new float[Out * Out];

        ds.Read(1, 0, 0, Size, Size, dest.AsSpan(), Out, Out);

        // The centre of output pixel i falls at source x = 4i + 2.
        Assert.Equal(2f + (1000 * 2f), dest[0]);
        Assert.Equal((Factor * 5) + 2f + (1000 * ((Factor * 3) + 2f)), dest[(3 * Out) + 5]);
    }

    [Fact]
    public void WindowDownsamplingStartsAtTheWindowOffset()
    {
        using var ds = Gradient();
        var dest = new float[4];

        ds.Read(1, 8, 16, 4, 4, dest.AsSpan(), 2, 2, Resampling.Average);

        Assert.Equal([8.5f + 16500f, 10.5f + 16500f, 8.5f + 18500f, 10.5f + 18500f], dest);
    }

    [Fact]
    public void ReadConvertsToTheBufferType()
    {
        using var ds = Gradient();
        var asInt = new int[3];
        var asDouble = new double[3];

        ds.Read(1, 5, 2, 3, 1, asInt.AsSpan());
        ds.Read(1, 5, 2, 3, 1, asDouble.AsSpan());

        Assert.Equal([2005, 2006, 2007], asInt);
        Assert.Equal([2005.0, 2006.0, 2007.0], asDouble);
    }

    /// <summary>A 7 x 5 in-memory raster of three float32 bands of <see cref="RasterSamples.Float32Planes"/>.</summary>
    private static GdalDataset ThreePlanes()
    {
        const int w = 7, h = 5;
        var values = RasterSamples.Float32Planes(w, h, 3);
        var ds = GdalDataset.CreateInMemory(w, h, 3, GdalDataType.Float32);
        for (var b = 1; b <= 3; b++)
        {
            ds.Write(b, 0, 0, w, h, values.AsSpan((b - 1) * w * h, w * h));
        }

        return ds;
    }

    [Fact]
    public void ReadBandsFillsBandSequentialPlanesInTheRequestedOrder()
    {
        using var ds = ThreePlanes();

        var dest = new float[2 * 3 * 2];
        ds.ReadBands([3, 1], 2, 1, 3, 2, dest.AsSpan());

        float V(int x, int y, int band) => x + (100 * y) + (10000 * (band - 1)) + 0.25f;
        float[] expected =
        [
            V(2, 1, 3), V(3, 1, 3), V(4, 1, 3), V(2, 2, 3), V(3, 2, 3), V(4, 2, 3),
            V(2, 1, 1), V(3, 1, 1), V(4, 1, 1), V(2, 2, 1), V(3, 2, 1), V(4, 2, 1),
        ];
        Assert.Equal(expected, dest);
    }

    /// <summary>
    /// Spacings put each value where asked: pixel-interleaved (the bands of a pixel side by
    /// side), and a strip of columns into its place in rows twice as wide, the rest untouched.
    /// </summary>
    [Fact]
    public void ReadBandsBySpacingsPutsEachValueInItsPlace()
    {
        using var ds = ThreePlanes();

        float V(int x, int y, int band) => x + (100 * y) + (10000 * (band - 1)) + 0.25f;
        var interleaved = new float[2 * 3 * 2];
        ds.ReadBands([3, 1], 2, 1, 3, 2, interleaved.AsSpan(), pixelSpace: 2, lineSpace: 6, bandSpace: 1);
        Assert.Equal(
            [V(2, 1, 3), V(2, 1, 1), V(3, 1, 3), V(3, 1, 1), V(4, 1, 3), V(4, 1, 1), V(2, 2, 3), V(2, 2, 1), V(3, 2, 3), V(3, 2, 1), V(4, 2, 3), V(4, 2, 1)],
            interleaved);

        // Columns 2 .. 4 of rows 1 .. 2, bands 3 and 1, at column 5 of planes 2 rows of 10.
        var wide = Enumerable.Repeat(-1f, 2 * 2 * 10).ToArray();
        ds.ReadBands([3, 1], 2, 1, 3, 2, wide.AsSpan(5), pixelSpace: 1, lineSpace: 10, bandSpace: 20);
        for (var i = 0; i < wide.Length; i++)
        {
            var (band, y, x) = (i / 20, i / 10 % 2, i % 10);
            Assert.Equal(x is >= 5 and < 8 ? V(x - 3, y + 1, band == 0 ? 3 : 1) : -1f, wide[i]);
        }

        var e = Assert.Throws<ArgumentException>(() => ds.ReadBands([3, 1], 2, 1, 3, 2, new float[11].AsSpan(), 2, 6, 1));
        Assert.Equal("dest", e.ParamName);
    }

    /// <summary>
    /// A read that fails deep down names the cause too: GDAL reports a corrupt tile's
    /// decoding error first and keeps only its last message (the tile read that failed).
    /// </summary>
    [Fact]
    public void AFailedReadNamesTheFirstFailureToo()
    {
        var dir = Directory.CreateTempSubdirectory("s2cm-corrupt-").FullName;
        try
        {
            var path = Path.Combine(dir, "corrupt.tif");
            var random = new Random(1);
            using (var ds = GdalDataset.Create(path, "GTiff", 64, 64, 1, GdalDataType.UInt16, "TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32", "COMPRESS=DEFLATE"))
            {
                ds.Write<ushort>(1, 0, 0, 64, 64, Enumerable.Range(0, 64 * 64).Select(_ => (ushort)random.Next()).ToArray());
            }

            // Random values do not compress: the middle of the file is tile data.
            var bytes = File.ReadAllBytes(path);
            for (var i = bytes.Length / 2; i < (bytes.Length / 2) + 200; i++)
            {
                bytes[i] ^= 0x5A;
            }

            File.WriteAllBytes(path, bytes);
            using var corrupt = GdalDataset.Open(path);
            var e = Assert.Throws<GdalException>(() => corrupt.Read<ushort>(1, 0, 0, 64, 64, new ushort[64 * 64]));
            Assert.Contains("IReadBlock failed", e.Message, StringComparison.Ordinal);
            Assert.Contains("(after: ZIPDecode", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TooSmallDestinationIsRejectedBeforeGdalIsCalled()
    {
        using var ds = Gradient();

        var single = Assert.Throws<ArgumentException>(() => ds.Read(1, 0, 0, 8, 8, new float[63].AsSpan()));
        var multi = Assert.Throws<ArgumentException>(
            () => ds.ReadBands([1, 1], 0, 0, 8, 8, new float[127].AsSpan(), 8, 8));

        Assert.Equal("dest", single.ParamName);
        Assert.Equal("dest", multi.ParamName);
    }

    [Fact]
    public void WindowOutsideTheRasterIsRejected()
    {
        using var ds = Gradient();
        var dest = new float[Size * Size];

        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Read(1, 1, 0, Size, 1, dest.AsSpan()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Read(1, -1, 0, 2, 1, dest.AsSpan()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Read(1, 0, 0, 0, 1, dest.AsSpan()));
    }

    [Fact]
    public void BandNumbersStartAtOne()
    {
        using var ds = Gradient();
        var dest = new float[1];

        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Read(0, 0, 0, 1, 1, dest.AsSpan()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Read(2, 0, 0, 1, 1, dest.AsSpan()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.DataType(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.ReadBands([1, 2], 0, 0, 1, 1, new float[2].AsSpan()));
    }

    [Fact]
    public void UnsupportedElementTypeIsRejected()
    {
        using var ds = Gradient();

        Assert.Throws<NotSupportedException>(() => ds.Read(1, 0, 0, 1, 1, new sbyte[1].AsSpan()));
        Assert.Throws<NotSupportedException>(() => ds.Read(1, 0, 0, 1, 1, new decimal[1].AsSpan()));
    }

    [Fact]
    public void ReadOnlyDatasetRefusesChanges()
    {
        using var file = new VsiMemFile(RasterSamples.GeoTiffBytes(out _), ".tif");
        using var ds = GdalDataset.Open(file.Path);

        Assert.Throws<InvalidOperationException>(() => ds.Write(1, 0, 0, 1, 1, new float[1].AsSpan()));
        Assert.Throws<InvalidOperationException>(() => ds.SetNoData(1, 0));
        Assert.Throws<InvalidOperationException>(() => ds.SetGeoTransform(RasterSamples.UtmGeoTransform));
        Assert.Throws<InvalidOperationException>(() => ds.ProjectionWkt = "");
        Assert.Throws<InvalidOperationException>(() => ds.SetDescription(1, "x"));
        Assert.Throws<InvalidOperationException>(() => ds.SetColorTable(1, [(0, 0, 0, 255)]));
        Assert.DoesNotContain(
            VsiMemFile.List("/vsimem/s2cloudmask/files"), n => n.EndsWith(".aux.xml", StringComparison.Ordinal));
    }

    [Fact]
    public void DisposedDatasetThrowsObjectDisposedAndDisposeTwiceIsHarmless()
    {
        var ds = Gradient();
        ds.Dispose();
        ds.Dispose();

        Assert.Throws<ObjectDisposedException>(() => ds.Read(1, 0, 0, 1, 1, new float[1].AsSpan()));
        Assert.Throws<ObjectDisposedException>(() => ds.GetGeoTransform());
    }

    [Fact]
    public void GeoTransformNeedsSixCoefficients()
    {
        using var ds = Gradient();

        Assert.Throws<ArgumentException>(() => ds.SetGeoTransform([1.0, 2.0, 3.0]));
    }
}
