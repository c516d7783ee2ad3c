using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Cli.Tests;

/// <summary>
/// Rows of a tiled file read in strips of tile columns, each through its own dataset on its
/// own thread: the same values as one read, in buffers used in turn.
/// </summary>
public sealed class GdalRowSourceTests : IDisposable
{
    private const int Width = 80, Height = 45, Tile = 16, Bands = 10;

    private readonly string _dir = Directory.CreateTempSubdirectory("s2cm-rows-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void StripedReadsGiveWhatOneReadGives(int strips)
    {
        var path = TiledFile();
        using var one = GdalDataset.Open(path);
        using var source = new GdalRowSource(path, Bands, strips);
        Assert.Equal(Math.Min(strips, 5), source.StripCount);

        // The image of a call stays valid through the next call.
        var before = Expected(one, 0, Height);
        var whole = source.ReadRows(0, Height);
        foreach (var (y, rows) in new[] { (13, 20), (44, 1), (0, 17) })
        {
            var image = source.ReadRows(y, rows);
            Assert.Equal(Expected(one, y, rows), Bytes(image));
            Assert.Equal(before, Bytes(whole));
            (before, whole) = (Expected(one, y, rows), image);
        }
    }

    [Fact]
    public void AStripsErrorReachesTheCaller()
    {
        using var source = new GdalRowSource(TiledFile(), Bands, 3);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => source.ReadRows(40, 10));
        Assert.Contains("window", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CacheHoldsEveryRowOfTilesAReadCanTouch()
    {
        using var source = new GdalRowSource(TiledFile(), Bands);
        Assert.Equal((Tile, Tile), source.BlockSize);

        // 20 rows touch at most three rows of 16-row tiles (e.g. rows 14 .. 33), 16 rows two.
        var rowOfTiles = (long)Tile * Width * Bands * sizeof(ushort);
        Assert.Equal(3 * rowOfTiles * 115 / 100, source.CacheBytesFor(20));
        Assert.Equal(2 * rowOfTiles * 115 / 100, source.CacheBytesFor(16));
    }

    /// <summary>The CLI reading in three strips gives the mask of the whole image classified at once.</summary>
    [Fact]
    public void MaskReadInStripsEqualsTheWholeImageMask()
    {
        var input = TiledFile();
        var output = Path.Combine(_dir, "mask.tif");

        var exit = MaskCommand.Run(new MaskOptions(input, output, "fast", [], false, null, null, null, 7, 3), TextWriter.Null);

        Assert.Equal(0, exit);
        using var src = GdalDataset.Open(input);
        var dn = new byte[Bands * Height * Width * sizeof(ushort)];
        GdalBandReader.ReadRows(src, Bands, ElementType.UInt16, 0, Height, dn);
        var model = MaskCommand.Catalog([]).Get("fast");
        var expected = new byte[Width * Height];
        CloudClassifier.Mask(model, BandImage.Planar(dn, ElementType.UInt16, Bands, Height, Width), Scaling.Resolve(ElementType.UInt16), null, Scaling.Identity, model.Threshold, expected);
        using var result = GdalDataset.Open(output);
        var mask = new byte[Width * Height];
        result.Read<byte>(1, 0, 0, Width, Height, mask);
        Assert.Equal(expected, mask);
        Assert.Contains((byte)1, mask);
        Assert.Contains((byte)0, mask);
    }

    /// <summary>A 10-band uint16 GeoTIFF of 16 x 16 tiles (five columns, the last half full), pixel-interleaved and compressed: half dark land, half bright cloud-like DN.</summary>
    private string TiledFile()
    {
        var path = Path.Combine(_dir, "tiled.tif");
        if (File.Exists(path))
        {
            return path;
        }

        var random = new Random(11);
        using (var ds = GdalDataset.Create(path, "GTiff", Width, Height, Bands, GdalDataType.UInt16, "TILED=YES", $"BLOCKXSIZE={Tile}", $"BLOCKYSIZE={Tile}", "COMPRESS=DEFLATE", "INTERLEAVE=PIXEL"))
        {
            for (var b = 1; b <= Bands; b++)
            {
                var values = new ushort[Width * Height];
                for (var i = 0; i < values.Length; i++)
                {
                    var cloudy = (i % Width) < Width / 2;
                    values[i] = (ushort)(cloudy ? random.Next(3000, 9000) : random.Next(100, 2500));
                }

                ds.Write<ushort>(b, 0, 0, Width, Height, values);
            }
        }

        return path;
    }

    private static byte[] Expected(GdalDataset dataset, int y, int rows)
    {
        var buffer = new byte[Bands * rows * Width * sizeof(ushort)];
        GdalBandReader.ReadRows(dataset, Bands, ElementType.UInt16, y, rows, buffer);
        return buffer;
    }

    private static byte[] Bytes(BandImage image) => image.Data.AsSpan(0, Bands * image.Height * Width * sizeof(ushort)).ToArray();
}
