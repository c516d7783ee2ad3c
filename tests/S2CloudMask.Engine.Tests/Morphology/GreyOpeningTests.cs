using S2CloudMask.Engine.Morphology;

namespace S2CloudMask.Engine.Tests.Morphology;

public sealed class GreyOpeningTests
{
    [Fact]
    public void RemovesIsolatedPeakAndKeepsPlateau()
    {
        const int w = 7, h = 6;
        var p = new float[w * h];
        p[(1 * w) + 1] = 1f; // isolated pixel: erased
        for (var y = 2; y < 6; y++)
        {
            for (var x = 3; x < 7; x++)
            {
                p[(y * w) + x] = 0.8f; // 4x4 block touching the border: kept
            }
        }

        var result = Open(p, w, h);
        Assert.Equal(0f, result[(1 * w) + 1]);
        for (var y = 2; y < 6; y++)
        {
            for (var x = 3; x < 7; x++)
            {
                Assert.Equal(0.8f, result[(y * w) + x]);
            }
        }
    }

    [Fact]
    public void MatchesBruteForceWithRepeatedEdgeOnRandomImage()
    {
        var rng = new Random(3);
        const int w = 13, h = 9;
        var p = Enumerable.Range(0, w * h).Select(_ => (float)rng.NextDouble()).ToArray();
        Assert.Equal(BruteForce(p, w, h), Open(p, w, h));
    }

    /// <summary>
    /// Widths and heights around the vector width (and 1), NaN scattered, and blocks of rows
    /// with their halo: every bit as the 3x3 window taken whole, NaN ignored (minNumber).
    /// </summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 9)]
    [InlineData(2, 3)]
    [InlineData(16, 4)]
    [InlineData(17, 5)]
    [InlineData(33, 2)]
    [InlineData(100, 37)]
    [InlineData(565, 12)]
    public void StreamedRowsMatchTheWholeWindowWithNaNAtAnySize(int w, int h)
    {
        var rng = new Random((w * 1000) + h);
        var p = Enumerable.Range(0, w * h).Select(_ => rng.Next(8) switch
        {
            0 => float.NaN,
            1 => 0f,
            _ => MathF.Round((float)rng.NextDouble(), 2),
        }).ToArray();
        var expected = BruteForce(p, w, h);
        Assert.Equal(expected, Open(p, w, h));

        foreach (var rows in new[] { 1, 2, 5 })
        {
            var pieced = new float[w * h];
            for (var start = 0; start < h; start += rows)
            {
                var end = Math.Min(h, start + rows);
                var inStart = Math.Max(0, start - 2);
                var inEnd = Math.Min(h, end + 2);
                GreyOpening.Open3x3(p.AsSpan(inStart * w, (inEnd - inStart) * w), w, h, inStart, start, end, pieced.AsSpan(start * w), new float[GreyOpening.ScratchLength(w)]);
            }

            Assert.Equal(expected, pieced);
        }

        // One pass fed its input a few rows at a time, as the classifier's chunks produce it:
        // each row opened as soon as the rows two below it have come, never before.
        foreach (var step in new[] { 1, 3 })
        {
            var fed = new float[w * h];
            var pass = GreyOpening.Probabilities(w, h, 0, 0, h, fed, new float[GreyOpening.ScratchLength(w)]);
            for (var ready = 0; ready < h + step; ready += step)
            {
                var inEnd = Math.Min(ready, h);
                pass.Advance(p, inEnd);
                Assert.Equal(inEnd == h ? h : Math.Max(0, inEnd - 2), pass.NextRow);
                pass.Advance(p, inEnd);
                Assert.Equal(inEnd == h ? h : Math.Max(0, inEnd - 2), pass.NextRow);
            }

            Assert.Equal(expected, fed);
        }

        // Mask codes opened as codes, fed alike: the codes of the opened probabilities, at
        // thresholds some values sit on; NaN is code 255 (nodata) and stays ignored.
        foreach (var threshold in new[] { 0.5f, 0f, 0.99f })
        {
            foreach (var step in new[] { 1, 4 })
            {
                var fed = new byte[w * h];
                var pass = GreyOpening.Codes(w, h, 0, 0, h, fed, new byte[GreyOpening.ScratchLength(w)]);
                var codes = p.Select(v => Code(v, threshold)).ToArray();
                for (var ready = step; ready < h + step; ready += step)
                {
                    pass.Advance(codes, Math.Min(ready, h));
                }

                Assert.Equal(expected.Select(v => Code(v, threshold)), fed);
            }
        }
    }

    private static byte Code(float p, float threshold) => float.IsNaN(p) ? GreyOpening.CodeNodata : p > threshold ? (byte)1 : (byte)0;

    [Fact]
    public void BlocksWithHaloGiveTheWholeImageResult()
    {
        var rng = new Random(5);
        const int w = 11, h = 20;
        var p = Enumerable.Range(0, w * h).Select(_ => (float)rng.NextDouble()).ToArray();
        var whole = Open(p, w, h);
        var pieced = new float[w * h];
        for (var start = 0; start < h; start += 6)
        {
            var end = Math.Min(h, start + 6);
            var inStart = Math.Max(0, start - 2);
            var inEnd = Math.Min(h, end + 2);
            var input = p.AsSpan(inStart * w, (inEnd - inStart) * w);
            GreyOpening.Open3x3(input, w, h, inStart, start, end, pieced.AsSpan(start * w), new float[GreyOpening.ScratchLength(w)]);
        }

        Assert.Equal(whole, pieced);
    }

    [Fact]
    public void NaNPixelsAreIgnoredByNeighbours()
    {
        const int w = 5, h = 5;
        var p = Enumerable.Repeat(0.7f, w * h).ToArray();
        p[12] = float.NaN;
        var result = Open(p, w, h);
        for (var i = 0; i < result.Length; i++)
        {
            Assert.Equal(0.7f, result[i]);
        }
    }

    private static float[] Open(float[] p, int w, int h)
    {
        var dest = new float[w * h];
        GreyOpening.Open3x3(p, w, h, 0, 0, h, dest, new float[GreyOpening.ScratchLength(w)]);
        return dest;
    }

    /// <summary>Erosion then dilation, each the whole 3x3 window (edge repeated) at once, NaN ignored as minNumber/maxNumber do.</summary>
    private static float[] BruteForce(float[] p, int w, int h)
    {
        float[] Filter(float[] src, bool min)
        {
            var dst = new float[w * h];
            for (var y = 0; y < h; y++)
            {
                for (var x = 0; x < w; x++)
                {
                    var v = float.NaN;
                    for (var dy = -1; dy <= 1; dy++)
                    {
                        for (var dx = -1; dx <= 1; dx++)
                        {
                            var s = src[(Math.Clamp(y + dy, 0, h - 1) * w) + Math.Clamp(x + dx, 0, w - 1)];
                            v = float.IsNaN(v) ? s : float.IsNaN(s) ? v : min ? Math.Min(v, s) : Math.Max(v, s);
                        }
                    }

                    dst[(y * w) + x] = v;
                }
            }

            return dst;
        }

        return Filter(Filter(p, true), false);
    }
}
