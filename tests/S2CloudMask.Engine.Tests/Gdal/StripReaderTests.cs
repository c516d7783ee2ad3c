using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Engine.Tests.Gdal;

/// <summary>Rows read in strips of whole tile columns, each through its own dataset on its own thread, as one read gives them.</summary>
public sealed class StripReaderTests : IDisposable
{
    private const int Width = 75, Height = 21, Tile = 16, Bands = 3;

    private readonly string _dir = Directory.CreateTempSubdirectory("s2cm-strips-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void StripsAreWholeBlocksAsEvenAsTheyGo()
    {
        Assert.Equal([(0, 5632), (5632, 10980)], StripReader.Strips(10980, 512, 2));
        Assert.Equal([(0, 32), (32, 64), (64, 100)], StripReader.Strips(100, 16, 3));
        Assert.Equal([(0, 16), (16, 32), (32, 48), (48, 50)], StripReader.Strips(50, 16, 8));
        Assert.Equal([(0, 300)], StripReader.Strips(300, 300, 4));
        Assert.Equal([(0, 300)], StripReader.Strips(300, 256, 0));
    }

    [Theory]
    [InlineData(ElementType.UInt16, 1)]
    [InlineData(ElementType.UInt16, 3)]
    [InlineData(ElementType.Float32, 5)]
    [InlineData(ElementType.UInt8, 2)]
    public void StripedReadsGiveWhatOneReadGives(ElementType type, int strips)
    {
        var path = Path.Combine(_dir, $"tiled-{type}.tif");
        var gdalType = type switch
        {
            ElementType.UInt16 => GdalDataType.UInt16,
            ElementType.Float32 => GdalDataType.Float32,
            _ => GdalDataType.Byte,
        };
        var random = new Random(strips);
        using (var ds = GdalDataset.Create(path, "GTiff", Width, Height, Bands, gdalType, "TILED=YES", $"BLOCKXSIZE={Tile}", $"BLOCKYSIZE={Tile}", "COMPRESS=DEFLATE"))
        {
            for (var b = 1; b <= Bands; b++)
            {
                ds.Write<float>(b, 0, 0, Width, Height, Enumerable.Range(0, Width * Height).Select(_ => (float)random.Next(250)).ToArray());
            }
        }

        using var dataset = GdalDataset.Open(path);
        var opened = 0;
        using var reader = new StripReader(dataset, () => { Interlocked.Increment(ref opened); return GdalDataset.Open(path); }, strips);
        Assert.Equal(Math.Min(strips, 5), reader.StripCount);
        foreach (var (y, rows) in new[] { (0, Height), (5, 11), (20, 1) })
        {
            var size = Bands * rows * Width * type.Size();
            var expected = new byte[size];
            GdalBandReader.ReadRows(dataset, Bands, type, y, rows, expected);
            var image = reader.ReadRows(Bands, type, y, rows, new byte[size]);
            Assert.Equal(expected, image.Data);
            Assert.Equal((rows, Width, Bands), (image.Height, image.Width, image.Bands));
        }

        // Each further strip opens its dataset once, whatever the reads.
        Assert.Equal(reader.StripCount - 1, opened);
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadRows(Bands, type, 15, 10, new byte[Bands * 10 * Width * type.Size()]));
    }
}
