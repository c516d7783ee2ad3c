using System.Numerics;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>
/// The logistic transform: within 2 units in the last place of the correctly rounded value
/// over [-88.7, 100] (and 0 below, where the exact value is under 3e-39), the same bit for
/// bit on the vector and scalar paths whatever the length of the span, the limits right,
/// and the table of 2^(i/32) correctly rounded.
/// </summary>
public sealed class LogisticTests
{
    [Fact]
    public void WithinTwoUlpOfTheExactValue()
    {
        // Every 64th float in [-100, 100] (35 million values): beyond that the result is 0
        // or exactly 1 (next tests).
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
                if (x < -88.7228394f)
                {
                    // exp(-x) overflows float: the result is 0, the exact value below 3e-39.
                    Assert.True(got == 0 && exact < 3e-39f, $"x = {x}: {got}, exact {exact}");
                }
                else if (ulps > worst)
                {
                    (worst, worstAt) = (ulps, x);
                }
            }
        }

        Assert.True(worst <= 2, $"{worst} ulp at x = {worstAt}");
    }

    /// <summary>
    /// Entry i plus <c>i &lt;&lt; 47</c> is the double nearest 2^(i/32): the midpoints m- and
    /// m+ on either side of it satisfy (m-)^32 &lt; 2^i &lt; (m+)^32, in exact integers.
    /// </summary>
    [Fact]
    public void TableHoldsCorrectlyRoundedPowersOfTwo()
    {
        Assert.Equal(32, Logistic.Table.Length);
        for (var i = 0; i < 32; i++)
        {
            var d = BitConverter.Int64BitsToDouble(Logistic.Table[i] + ((long)i << 47));
            Assert.InRange(d, 1.0, 2.0);

            // d = M / 2^52 with M an integer (d in [1, 2)); the midpoints are (2M -+ 1) / 2^53.
            var m = new BigInteger(BitConverter.DoubleToInt64Bits(d) & ((1L << 52) - 1)) + (BigInteger.One << 52);
            var power = BigInteger.One << (i + (53 * 32));
            Assert.True(BigInteger.Pow((2 * m) - 1, 32) < power, $"entry {i} too large");
            Assert.True(BigInteger.Pow((2 * m) + 1, 32) > power, $"entry {i} too small");
        }
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
    public void VeryNegativeMarginsGiveZeroAndNaNStaysNaN()
    {
        Assert.InRange(Logistic.Of(-88f), 6.0e-39f, 6.1e-39f);
        foreach (var x in new[] { -88.8f, -1000f, float.NegativeInfinity })
        {
            Assert.Equal(0f, Logistic.Of(x));
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
        var special = new[] { 0f, -0f, 87f, -87f, 88.72283f, -88.72283f, 88.72284f, -88.72284f, 103.97207f, -103.97209f, 1e30f, -1e30f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-30f };
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
