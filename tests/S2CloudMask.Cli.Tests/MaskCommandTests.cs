using S2CloudMask.Engine;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Cli.Tests;

public sealed class MaskCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s2cm-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SharedTheory]
    [InlineData("spectral", 37)]
    [InlineData("fast", 300)]
    public void ProbabilityFileEqualsWholeImageClassificationAndKeepsGeoreferencing(string name, int blockRows)
    {
        SharedData.Require();
        var input = SharedData.Data("t31tdh-20150726/stack10.tif");
        var output = Path.Combine(_dir, "p.tif");
        var log = new StringWriter();

        var exit = MaskCommand.Run(new MaskOptions(input, output, SharedData.Model(name), [], Probability: true, null, null, null, blockRows, 2), log);

        Assert.Equal(0, exit);
        Assert.Contains("300 x 300 px", log.ToString(), StringComparison.Ordinal);
        using var src = GdalDataset.Open(input);
        using var result = GdalDataset.Open(output);
        Assert.Equal(src.GetGeoTransform(), result.GetGeoTransform());
        Assert.Equal("EPSG:32631", result.GetSpatialReference()?.AuthorityId);
        var dn = new ushort[10 * 300 * 300];
        src.ReadBands<ushort>([.. Enumerable.Range(1, 10)], 0, 0, 300, 300, dn);
        var expected = CloudClassifier.Probability(
            ModelFile.Load(SharedData.Model(name)),
            BandImage.Planar(NdArray.Create(dn, dn.Length).Data, ElementType.UInt16, 10, 300, 300),
            Scaling.Resolve(ElementType.UInt16));
        var actual = new float[300 * 300];
        result.Read<float>(1, 0, 0, 300, 300, actual);
        Assert.Equal(expected, actual);
    }

    [SharedFact]
    public void BuiltInModelMaskHasMaskValuesOnly()
    {
        SharedData.Require();
        var output = Path.Combine(_dir, "m.tif");
        var exit = MaskCommand.Run(new MaskOptions(SharedData.Data("t31tdh-20150726/stack10.tif"), output, "spectral", [], false, null, null, null, 100, -1), TextWriter.Null);

        Assert.Equal(0, exit);
        using var result = GdalDataset.Open(output);
        Assert.Equal(GdalDataType.Byte, result.DataType(1));
        Assert.Equal(255, result.GetNoData(1));
        var mask = new byte[300 * 300];
        result.Read<byte>(1, 0, 0, 300, 300, mask);
        Assert.All(mask, v => Assert.True(v is 0 or 1 or 255));
    }

    [Fact]
    public void CatalogHasTheBuiltInModels()
    {
        var names = MaskCommand.Catalog([]).Models.Select(m => m.Name).Order().ToArray();
        Assert.Equal(["fast", "spectral", "temporal"], names);
    }

    [Fact]
    public void SpectralTemporalModelIsRefusedWithExitCode2()
    {
        var log = new StringWriter();
        var exit = MaskCommand.Run(new MaskOptions("unused.tif", Path.Combine(_dir, "x.tif"), "temporal", [], false, null, null, null, 64, -1), log);
        Assert.Equal(2, exit);
        Assert.Contains("reference", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void MissingInputIsAGdalErrorNamingTheFile()
    {
        var e = Assert.Throws<GdalException>(() =>
            MaskCommand.Run(new MaskOptions("/no/such/input.tif", Path.Combine(_dir, "x.tif"), "fast", [], false, null, null, null, 64, -1), TextWriter.Null));
        Assert.Contains("/no/such/input.tif", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownModelNamesTheKnownOnes()
    {
        var e = Assert.Throws<InvalidInputException>(() => MaskCommand.ResolveModel("cirrus", []));
        Assert.Contains("spectral", e.Message, StringComparison.Ordinal);
    }
}
