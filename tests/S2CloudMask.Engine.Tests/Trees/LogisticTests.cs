using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>
/// The logistic transform: within 2 units in the last place of the correctly rounded value
/// over every float the margins can take, the same bit for bit on the vector and scalar
/// paths whatever the length of the span, and the limits right.
/// </summary>
public sealed class LogisticTests
{
    [Fact]
    public void WithinTwoUlpOfTheExactValue()
    {
        // Every 64th float in [-100, 100] (35 million values): beyond that the result is
        // 0-ish or exactly 1 (next test).
        var worst = 0L;
        var worstAt = 0f;
        foreach (var sign in new[] { 1, -1 })
        {
            for (var bits = 0; bits <= BitConverter.SingleToInt32Bits(100f); bits += 64)
            {
                var x = sign * BitConverter.Int32BitsToSingle(bits);
                var exact = (float)(1 / (1 + Math.Exp(-(double)x)));
                var got = Logistic.Of(x);
                var ulps = Math.Abs((long)BitConverter.SingleToInt32Bits(got) - BitConverter.SingleToInt32Bits(exact));
                if (x < -87f)
                {
                    // exp's argument is clamped to 87: the result stays at about e^-87.
                    Assert.True(got is >= 0 and <= 1.7e-38f, $"x = {x}: {got}");
                }
                else if (ulps > worst)
                {
                    (worst, worstAt) = (ulps, x);
                }
            }
        }

        Assert.True(worst <= 2, $"{worst} ulp at x = {worstAt}");
    }

    [Theory]
    [InlineData(0f, 0.5f)]
    [InlineData(float.PositiveInfinity, 1f)]
    [InlineData(88f, 1f)]
    [InlineData(1e30f, 1f)]
    [InlineData(20f, 0.99999999793884630f)]
    [InlineData(-20f, 2.0611536e-9f)]
    public void KnownValues(float x, float expected) =>
        Assert.Equal(expected, Logistic.Of(x), 1e-15f + (expected * 2.4e-7f));

    [Fact]
    public void VeryNegativeMarginsGiveAlmostZeroAndNaNStaysNaN()
    {
        foreach (var x in new[] { -88f, -1000f, float.NegativeInfinity })
        {
            Assert.InRange(Logistic.Of(x), 0f, 1.7e-38f);
        }

        Assert.True(float.IsNaN(Logistic.Of(float.NaN)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(31)]
    [InlineData(40)]
    [InlineData(2048)]
    public void SpanEqualsOneByOne(int length)
    {
        var rng = new Random(length);
        var special = new[] { 0f, -0f, 87f, -87f, 87.5f, -87.5f, 1e30f, -1e30f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-30f };
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = i % 5 == 4 ? special[rng.Next(special.Length)] : (float)((rng.NextDouble() * 40) - 20);
        }

        var applied = (float[])values.Clone();
        Logistic.Apply(applied);
        for (var i = 0; i < length; i++)
        {
            var one = Logistic.Of(values[i]);
            Assert.True(
                BitConverter.SingleToInt32Bits(one) == BitConverter.SingleToInt32Bits(applied[i]) || (float.IsNaN(one) && float.IsNaN(applied[i])),
                $"x = {values[i]} at {i}: span {applied[i]}, one by one {one}");
        }
    }
}
