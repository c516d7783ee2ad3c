namespace S2CloudMask.Engine.Tests.Classification;

/// <summary>The NaN bookkeeping of the classifier: vector bodies and scalar tails.</summary>
public sealed class FloatSpansTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(32)]
    [InlineData(77)]
    public void MarkNaNFlagsExactlyTheNaNs(int n)
    {
        var rng = new Random(n);
        var values = new float[n];
        var expected = new byte[n];
        for (var i = 0; i < n; i++)
        {
            var nan = rng.Next(3) == 0;
            values[i] = nan ? float.NaN : (float)rng.NextDouble() - 0.5f;
            expected[i] = nan ? (byte)1 : (byte)0;
        }

        if (n > 5)
        {
            values[5] = float.PositiveInfinity; // not NaN
            expected[5] = 0;
        }

        var mask = new byte[n + 3];
        mask.AsSpan().Fill(9);
        FloatSpans.MarkNaN(values, mask);
        Assert.Equal(expected, mask[..n]);
        Assert.All(mask[n..], b => Assert.Equal(9, b)); // nothing written past the values
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(64)]
    [InlineData(83)]
    public void SetNaNWhereTouchesOnlyMaskedValues(int n)
    {
        var rng = new Random(100 + n);
        var values = new float[n];
        var mask = new byte[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = i;
            mask[i] = (byte)(rng.Next(4) == 0 ? rng.Next(1, 256) : 0);
        }

        if (n >= 16)
        {
            mask.AsSpan(8, 8).Clear(); // a whole group of eight without a flag
        }

        FloatSpans.SetNaNWhere(values, mask);
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(mask[i] != 0 ? float.NaN : i, values[i]);
        }
    }

    [Fact]
    public void ContainsNaNFindsOneNaNAnywhere()
    {
        var values = new float[71];
        Assert.False(FloatSpans.ContainsNaN(values));
        for (var at = 0; at < values.Length; at++)
        {
            values[at] = float.NaN;
            Assert.True(FloatSpans.ContainsNaN(values), $"NaN at {at}");
            values[at] = float.NegativeInfinity;
            Assert.False(FloatSpans.ContainsNaN(values));
        }
    }
}
