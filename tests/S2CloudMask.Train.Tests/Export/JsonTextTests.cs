using System.Text.Json;
using S2CloudMask.Train.Export;

namespace S2CloudMask.Train.Tests.Export;

public sealed class JsonTextTests
{
    [Theory]
    [InlineData(0.1f)]
    [InlineData(-0.047837216f)]
    [InlineData(20305.582f)]
    [InlineData(1e-45f)]
    [InlineData(3.4028235e38f)]
    public void FloatsRoundTripExactly(float value)
    {
        var text = JsonText.Write(new[] { value });
        using var doc = JsonDocument.Parse(text);
        Assert.Equal(value, doc.RootElement[0].GetSingle());
        Assert.DoesNotContain(",", text.Trim('[', ']', '\n'), StringComparison.Ordinal);
    }

    [Fact]
    public void KeysKeepTheirOrderAndOutputIsPlainAscii()
    {
        var obj = new JsonObject { { "z", 1 }, { "a", "B04*log(B12) + x/y" }, { "m", new JsonObject { { "k", new[] { true, false } } } } };
        var text = JsonText.Write(obj);
        Assert.Equal("{\n  \"z\": 1,\n  \"a\": \"B04*log(B12) + x/y\",\n  \"m\": {\n    \"k\": [true,false]\n  }\n}\n", text);
    }

    [Fact]
    public void NonFiniteNumbersAreRefused() =>
        Assert.Throws<ArgumentException>(() => JsonText.Write(new[] { float.NaN }));
}
