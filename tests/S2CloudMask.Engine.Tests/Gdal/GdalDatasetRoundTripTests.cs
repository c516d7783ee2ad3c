using S2CloudMask.Engine.Gdal;

namespace S2CloudMask.Engine.Tests.Gdal;

public class GdalDatasetRoundTripTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void Float32MultiBandSurvivesDeflateTiledGeoTiffBytes()
    {
        const int width = 300, height = 70, bands = 3;
        var values = RasterSamples.Float32Planes(width, height, bands);
        byte[] tiff;
        using (var mem = GdalDataset.CreateInMemory(width, height, bands, GdalDataType.Float32))
        using (var utm = SpatialReference.FromEpsg(32631))
        {
            for (var b = 1; b <= bands; b++)
            {
                mem.Write(b, 0, 0, width, height, values.AsSpan((b - 1) * width * height, width * height));
                mem.SetNoData(b, -9999.0);
                mem.SetDescription(b, $"B{b:D2}");
            }

            mem.SetGeoTransform(RasterSamples.UtmGeoTransform);
            mem.ProjectionWkt = utm.ToWkt();
            tiff = mem.EncodeTo("GTiff", "COMPRESS=DEFLATE", "TILED=YES");
        }

        using var file = new VsiMemFile(tiff, ".tif");
        using var ds = GdalDataset.Open(file.Path);
        var actual = new float[values.Length];
        ds.ReadBands([1, 2, 3], 0, 0, width, height, actual.AsSpan());

        Assert.Equal("GTiff", ds.DriverName);
        Assert.Equal((width, height, bands), (ds.Width, ds.Height, ds.BandCount));
        Assert.Equal(GdalDataType.Float32, ds.DataType(2));
        Assert.Equal(values, actual);
        Assert.Equal(RasterSamples.UtmGeoTransform, ds.GetGeoTransform());
        Assert.Equal(-9999.0, ds.GetNoData(3));
        Assert.Equal("B02", ds.GetDescription(2));
        Assert.Equal((256, 256), ds.BlockSize(1));
        using var srs = ds.GetSpatialReference();
        Assert.NotNull(srs);
        Assert.Equal("EPSG:32631", srs.AuthorityId);
        Assert.True(srs.IsProjected);
    }

    [Fact]
    public void UInt8MultiBandSurvivesGeoTiffBytesBandByBand()
    {
        const int width = 45, height = 31, bands = 4;
        var planes = new byte[bands][];
        byte[] tiff;
        using (var mem = GdalDataset.CreateInMemory(width, height, bands, GdalDataType.Byte))
        {
            for (var b = 0; b < bands; b++)
            {
                planes[b] = new byte[width * height];
                for (var i = 0; i < planes[b].Length; i++)
                {
                    planes[b][i] = (byte)((i * (b + 3)) + b);
                }

                mem.Write(b + 1, 0, 0, width, height, planes[b].AsSpan());
            }

            mem.SetNoData(1, 255);
            mem.SetGeoTransform(RasterSamples.UtmGeoTransform);
            using var utm = SpatialReference.FromUserInput("EPSG:32631");
            mem.ProjectionWkt = utm.ToWkt();
            tiff = mem.EncodeTo("GTiff", ["COMPRESS=DEFLATE", "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"]);
        }

        using var file = new VsiMemFile(tiff);
        using var ds = GdalDataset.Open(file.Path);

        Assert.Equal(GdalDataType.Byte, ds.DataType(4));
        Assert.Equal((16, 16), ds.BlockSize(4));
        for (var b = 0; b < bands; b++)
        {
            var actual = new byte[width * height];
            ds.Read(b + 1, 0, 0, width, height, actual.AsSpan());
            Assert.Equal(planes[b], actual);
        }

        // GeoTIFF has one GDAL_NODATA tag per file, so band 1's nodata applies to every band.
        Assert.Equal(255.0, ds.GetNoData(1));
        Assert.Equal(255.0, ds.GetNoData(2));
        Assert.Equal(RasterSamples.UtmGeoTransform, ds.GetGeoTransform());
        using var expected = SpatialReference.FromEpsg(32631);
        using var srs = SpatialReference.FromWkt(ds.ProjectionWkt);
        Assert.True(srs.IsSame(expected));
    }

    [Fact]
    public void CogEncodingOpensWithTheSameValues()
    {
        var values = RasterSamples.Float32Planes(64, 48, 1);
        using var mem = GdalDataset.CreateInMemory(64, 48, 1, GdalDataType.Float32);
        mem.Write(1, 0, 0, 64, 48, values.AsSpan());

        var cog = mem.EncodeTo("COG", "COMPRESS=DEFLATE", "BLOCKSIZE=32", "OVERVIEWS=FORCE_USE_EXISTING");
        using var file = new VsiMemFile(cog, ".tif");
        using var ds = GdalDataset.Open(file.Path);
        var actual = new float[values.Length];
        ds.Read(1, 0, 0, 64, 48, actual.AsSpan());

        Assert.Equal(values, actual);
        Assert.Equal((32, 32), ds.BlockSize(1));
    }

    [Fact]
    public void InMemoryDatasetWithoutGeoreferencingReportsNone()
    {
        using var mem = GdalDataset.CreateInMemory(4, 3, 1, GdalDataType.UInt16);

        Assert.Null(mem.GetGeoTransform());
        Assert.Equal("", mem.ProjectionWkt);
        Assert.Null(mem.GetSpatialReference());
        Assert.Null(mem.GetNoData(1));
        Assert.Null(mem.GetColorTable(1));
        Assert.Equal("MEM", mem.DriverName);
        Assert.Equal(0, mem.OverviewCount(1));
    }

    [Fact]
    public void PngWithColourTableStartsWithSignatureAndKeepsPalette()
    {
        (byte R, byte G, byte B, byte A)[] palette =
        [
            (0, 0, 0, 0),
            (255, 255, 255, 255),
            (200, 30, 40, 128),
        ];
        var indices = new byte[20 * 10];
        for (var i = 0; i < indices.Length; i++)
        {
            indices[i] = (byte)(i % 3);
        }

        byte[] png;
        using (var mem = GdalDataset.CreateInMemory(20, 10, 1, GdalDataType.Byte))
        {
            mem.Write(1, 0, 0, 20, 10, indices.AsSpan());
            mem.SetColorTable(1, palette);
            png = mem.EncodeTo("PNG");
        }

        Assert.Equal(PngSignature, png.AsSpan(0, 8).ToArray());
        using var file = new VsiMemFile(png, ".png");
        using var ds = GdalDataset.Open(file.Path);
        var actual = new byte[indices.Length];
        ds.Read(1, 0, 0, 20, 10, actual.AsSpan());

        Assert.Equal("PNG", ds.DriverName);
        Assert.Equal(palette, ds.GetColorTable(1));
        Assert.Equal(indices, actual);
    }

    [Fact]
    public void GarbageBytesThrowGdalExceptionNamingTheFile()
    {
        using var file = new VsiMemFile("this is just some text, not a raster"u8.ToArray(), ".tif");

        var ex = Assert.Throws<GdalException>(() => GdalDataset.Open(file.Path));

        Assert.Contains(file.Path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("not recognized as a supported file format", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AllowedDriversKeepOtherFormatsOut()
    {
        // Bytes with a GIF signature are claimed by the GIF driver when every driver may try.
        using var gif = new VsiMemFile("GIF89a and then nothing a GIF needs"u8.ToArray(), ".tif");
        using var tiff = new VsiMemFile(RasterSamples.GeoTiffBytes(out _), ".tif");

        var anyDriver = Assert.Throws<GdalException>(() => GdalDataset.Open(gif.Path));
        var tiffOnly = Assert.Throws<GdalException>(() => GdalDataset.Open(gif.Path, allowedDrivers: ["GTiff"]));
        using var opened = GdalDataset.Open(tiff.Path, allowedDrivers: ["GTiff"]);

        Assert.Contains("gif", anyDriver.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("not recognized as a supported file format", tiffOnly.Message, StringComparison.Ordinal);
        Assert.Equal("GTiff", opened.DriverName);
    }

    [Fact]
    public void MissingFileThrowsGdalExceptionNamingTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"s2cloudmask-missing-{Guid.NewGuid():N}.tif");

        var ex = Assert.Throws<GdalException>(() => GdalDataset.Open(path));

        Assert.StartsWith($"opening '{path}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EncodeLeavesNoVsimemFilesBehindEvenWithSideFiles()
    {
        var folder = $"/vsimem/s2cloudmask-test/{Guid.NewGuid():N}";
        using var mem = GdalDataset.CreateInMemory(8, 8, 1, GdalDataType.Byte);
        mem.SetGeoTransform(RasterSamples.UtmGeoTransform);
        using (var utm = SpatialReference.FromEpsg(32631))
        {
            mem.ProjectionWkt = utm.ToWkt();
        }

        // PNG cannot hold georeferencing, so GDAL writes it to a .aux.xml side file.
        var png = mem.EncodeTo("PNG", [], folder);

        Assert.NotEmpty(png);
        Assert.Empty(VsiMemFile.List(folder));
    }

    [Fact]
    public void FailedEncodeThrowsAndLeavesNoVsimemFiles()
    {
        var folder = $"/vsimem/s2cloudmask-test/{Guid.NewGuid():N}";
        using var mem = GdalDataset.CreateInMemory(8, 8, 1, GdalDataType.Float32);

        var ex = Assert.Throws<GdalException>(() => mem.EncodeTo("PNG", [], folder));

        Assert.StartsWith("encoding an in-memory dataset as PNG: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("doesn't support data type Float32", ex.Message, StringComparison.Ordinal);
        Assert.Empty(VsiMemFile.List(folder));
    }

    [Fact]
    public void UnknownDriverThrowsGdalException()
    {
        using var mem = GdalDataset.CreateInMemory(2, 2, 1, GdalDataType.Byte);

        var ex = Assert.Throws<GdalException>(() => mem.EncodeTo("NoSuchDriver"));

        Assert.Contains("NoSuchDriver", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateCopyWritesARealFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"s2cloudmask-{Guid.NewGuid():N}.tif");
        try
        {
            var values = RasterSamples.Float32Planes(10, 6, 1);
            using (var mem = GdalDataset.CreateInMemory(10, 6, 1, GdalDataType.Float32))
            {
                mem.Write(1, 0, 0, 10, 6, values.AsSpan());
                mem.CreateCopy(path, "GTiff", "COMPRESS=DEFLATE");
            }

            using var ds = GdalDataset.Open(path);
            var actual = new float[values.Length];
            ds.Read(1, 0, 0, 10, 6, actual.AsSpan());

            Assert.Equal(path, ds.Path);
            Assert.Equal(values, actual);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
