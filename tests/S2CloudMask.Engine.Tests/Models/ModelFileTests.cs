using System.Text;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Tests.Support;

namespace S2CloudMask.Engine.Tests.Models;

public sealed class ModelFileTests
{
    private const string Tiny = """
        {"name":"tiny","features":["B03*log(B12)"],
         "ensemble":{"kind":"sklearn-decision-tree","children_left":[1,-1,-1],"children_right":[2,-1,-1],
                     "feature":[0,-2,-2],"threshold":[-0.1,-2,-2],"value":[[1,1],[1,0],[0,1]]},
         "postprocess":{"opening":3},"threshold":0.4,"metadata":{"trained_on":"test"}}
        """;

    [Fact]
    public void ParsesNameFeaturesPostprocessThresholdAndMetadata()
    {
        var m = ModelFile.Parse(new MemoryStream(Encoding.UTF8.GetBytes(Tiny)), "memory:tiny");
        Assert.Equal("tiny", m.Name);
        Assert.Equal(["B03*log(B12)"], m.Features.Expressions);
        Assert.Equal(3, m.Opening);
        Assert.Equal(0.4f, m.Threshold);
        Assert.False(m.NeedsReference);
        Assert.Equal("cloud", m.Target);
        Assert.Equal("test", m.Metadata!.Value.GetProperty("trained_on").GetString());
    }

    [Fact]
    public void BadExpressionNamesModelAndExpression()
    {
        var json = Tiny.Replace("B03*log(B12)", "B03*log(B99)", StringComparison.Ordinal);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Parse(new MemoryStream(Encoding.UTF8.GetBytes(json)), "memory:tiny"));
        Assert.Contains("tiny", e.Message, StringComparison.Ordinal);
        Assert.Contains("B99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FeatureCountMismatchIsRejected()
    {
        var json = Tiny.Replace("\"features\":[\"B03*log(B12)\"]", "\"features\":[]", StringComparison.Ordinal);
        Assert.Throws<ModelFormatException>(() => ModelFile.Parse(new MemoryStream(Encoding.UTF8.GetBytes(json)), "memory:tiny"));
    }

    [SharedFact]
    public void CatalogLoadsEveryPublishedModelWithMetadata()
    {
        SharedData.Require();
        var catalog = ModelCatalog.Load([], [SharedData.Models]);
        Assert.Equal(["fast", "fast-shadow", "spectral"], catalog.Models.Select(m => m.Name).Order().ToArray());
        var spectral = catalog.Get("spectral");
        Assert.Equal("xgboost-json", spectral.Ensemble.Kind);
        Assert.Equal(200, spectral.Ensemble.TreeCount);
        Assert.Equal(9, spectral.Ensemble.MaxDepth);
        Assert.Equal(3, spectral.Opening);
        var shadow = catalog.Get("FAST-SHADOW");
        Assert.True(shadow.NeedsReference);
        Assert.Equal("shadow", shadow.Target);
        Assert.Equal(11, catalog.Get("fast").Ensemble.MaxDepth);
        var e = Assert.Throws<InvalidInputException>(() => catalog.Get("nope"));
        Assert.Equal("unknown-model", e.Code);
        Assert.Contains("fast-shadow", e.Message, StringComparison.Ordinal);
    }
}
