using System.Text;
using System.Text.Json;
using S2CloudMask.Api.Remote;

namespace S2CloudMask.Api.Tests.Remote;

/// <summary>How a STAC item's scale, offset and processing baseline become (DN + offset) x scale.</summary>
public sealed class StacItemTests
{
    private static readonly Uri Item = new("https://earth-search.example/v1/collections/sentinel-2-l2a/items/x");

    [Theory]
    [InlineData("\"s2:processing_baseline\": \"04.00\"", -1000)]
    [InlineData("\"s2:processing_baseline\": \"05.09\"", -1000)]
    [InlineData("\"s2:processing_baseline\": \"02.14\"", 0)]
    [InlineData("\"s2:processing_baseline\": \"05.09\", \"earthsearch:boa_offset_applied\": true", 0)]
    [InlineData("\"earthsearch:boa_offset_applied\": false", -1000)]
    [InlineData("", 0)]
    public void BaselineOffsetIsAppliedWhenTheItemSaysTheDataCarryIt(string properties, double offset)
    {
        var bands = StacItem.Bands(ItemJson(properties, rasterBands: ""), Item);
        Assert.All(bands, b => Assert.Equal(offset, b.Offset));
        Assert.All(bands, b => Assert.Equal(1e-4, b.Scale));
    }

    [Fact]
    public void RasterBandsScaleAndOffsetWinOverTheBaseline()
    {
        // Earth Search v1: raster:bands scale 0.0001, offset -0.1 (= -1000 DN).
        var bands = StacItem.Bands(ItemJson("\"s2:processing_baseline\": \"05.09\"", "\"raster:bands\": [{\"scale\": 0.0001, \"offset\": -0.1}],"), Item);
        Assert.All(bands, b => Assert.Equal(-1000, b.Offset, 6));
        Assert.Equal(["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"], bands.Select(b => b.Band));
        Assert.Equal("https://earth-search.example/v1/collections/sentinel-2-l2a/items/B02.tif", bands[0].Href);
    }

    private static byte[] ItemJson(string properties, string rasterBands)
    {
        string[] names = ["blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08", "swir16", "swir22"];
        string[] files = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"];
        var assets = string.Join(",", names.Select((n, i) => $"\"{n}\": {{ {rasterBands} \"href\": \"{files[i]}.tif\" }}"));
        var json = $"{{\"type\": \"Feature\", \"properties\": {{ {properties} }}, \"assets\": {{ {assets} }} }}";
        using var _ = JsonDocument.Parse(json);
        return Encoding.UTF8.GetBytes(json);
    }
}
