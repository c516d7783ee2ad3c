using S2CloudMask.Engine.Gdal;

namespace S2CloudMask.Engine.Tests.Gdal;

public class VsiMemFileTests
{
    [Fact]
    public void FileExistsUntilDisposedAndDisposeTwiceIsHarmless()
    {
        var file = new VsiMemFile(new byte[] { 1, 2, 3 }, ".bin");
        Assert.StartsWith("/vsimem/", file.Path, StringComparison.Ordinal);
        Assert.EndsWith(".bin", file.Path, StringComparison.Ordinal);
        Assert.Equal(3, file.Length);
        Assert.True(VsiMemFile.Exists(file.Path));

        file.Dispose();
        file.Dispose();

        Assert.False(VsiMemFile.Exists(file.Path));
    }

    [Fact]
    public void EachFileGetsItsOwnPath()
    {
        using var a = new VsiMemFile(new byte[] { 1 });
        using var b = new VsiMemFile(new byte[] { 1 });

        Assert.NotEqual(a.Path, b.Path);
    }

    [Fact]
    public void ContentIsACopyTakenAtConstruction()
    {
        var bytes = RasterSamples.GeoTiffBytes(out var expected);
        using var file = new VsiMemFile(bytes);
        Array.Clear(bytes);

        using var ds = GdalDataset.Open(file.Path);
        var actual = new float[expected.Length];
        ds.Read(1, 0, 0, ds.Width, ds.Height, actual.AsSpan());

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void DatasetOpenedBeforeDisposeStillReadsItsBytes()
    {
        var bytes = RasterSamples.GeoTiffBytes(out var expected);
        var file = new VsiMemFile(bytes.AsMemory());
        using var ds = GdalDataset.Open(file.Path);

        file.Dispose();
        var actual = new float[expected.Length];
        ds.Read(1, 0, 0, ds.Width, ds.Height, actual.AsSpan());

        Assert.False(VsiMemFile.Exists(file.Path));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void EmptyContentMakesAnEmptyFileThatDoesNotOpen()
    {
        using var file = new VsiMemFile(ReadOnlySpan<byte>.Empty, ".tif");

        Assert.True(VsiMemFile.Exists(file.Path));
        Assert.Throws<GdalException>(() => GdalDataset.Open(file.Path));
    }
}
