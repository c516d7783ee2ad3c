using S2CloudMask.Engine.Geomedian;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Engine.Tests.Geomedian;

public sealed class GeometricMedianTests
{
    [Theory]
    [InlineData(8, 1)]
    [InlineData(4, 2)]
    [InlineData(2, 3)]
    public void LaneSolverEqualsScalarTwinBitForBit(int lanes, int seed)
    {
        const int nb = 10, nt = 30;
        var pixels = LanePixels(nb, nt, new Random(seed));
        var solver = LaneSolver.Create(nb, nt, lanes);
        Assert.Equal(lanes, solver.Lanes);
        for (var first = 0; first < pixels.Length; first += lanes)
        {
            for (var l = 0; l < lanes; l++)
            {
                for (var t = 0; t < nt; t++)
                {
                    for (var b = 0; b < nb; b++)
                    {
                        solver.X[solver.Offset(t, b) + l] = pixels[first + l][(t * nb) + b];
                    }
                }
            }

            solver.Solve(1e-7, 2000);
            for (var l = 0; l < lanes; l++)
            {
                // The scalar twin takes only the dates with data in every band.
                var pixel = pixels[first + l];
                int[] used = [.. Enumerable.Range(0, nt).Where(t => !pixel.Skip(t * nb).Take(nb).Any(float.IsNaN))];
                float[] x = [.. used.SelectMany(t => pixel.Skip(t * nb).Take(nb))];
                var ys = new double[nb];
                var iterations = used.Length == 0 ? 0 : GeometricMedian.Solve(x, used.Length, nb, 1e-7, 2000, ys, new double[nb], new double[nb], new double[nt]);
                Assert.Equal(used.Length, solver.Used[l]);
                Assert.Equal(iterations, solver.Iterations[l]);

                // The special pixels do take their paths: all dates at y stop at once, as does
                // a correction without a step; a correction with one goes on.
                if (first + l is 3 or 4)
                {
                    Assert.Equal(1, iterations);
                }
                else if (first + l == 5)
                {
                    Assert.True(iterations > 2, $"{iterations} iterations");
                }
                for (var b = 0; b < nb; b++)
                {
                    var yl = solver.Y[(b * lanes) + l];
                    Assert.Equal(BitConverter.DoubleToInt64Bits(used.Length == 0 ? double.NaN : ys[b]), BitConverter.DoubleToInt64Bits(yl));
                }
            }
        }
    }

    /// <summary>
    /// Eight (t, b) pixels that take every path of the iteration: random ones converging after
    /// different counts, one with dates dropped for nodata, one without data, one whose dates
    /// all coincide, and two whose mean is one of their dates (Vardi-Zhang's correction, with
    /// and without a step). Dyadic values keep those means exact.
    /// </summary>
    private static float[][] LanePixels(int nb, int nt, Random rng)
    {
        var pixels = new float[8][];
        for (var p = 0; p < pixels.Length; p++)
        {
            pixels[p] = new float[nt * nb];
            for (var i = 0; i < pixels[p].Length; i++)
            {
                pixels[p][i] = (float)(rng.NextDouble() * 0.4);
            }
        }

        pixels[1][(3 * nb) + 4] = float.NaN;
        pixels[1][(17 * nb) + 0] = float.NaN;
        pixels[2].AsSpan().Fill(float.NaN);
        pixels[3].AsSpan().Fill(0.25f);

        // Pairs mirrored about 0.25 in band 0, and two dates at 0.25: no step.
        pixels[4].AsSpan().Clear();
        for (var t = 0; t < nt; t++)
        {
            pixels[4][t * nb] = t >= nt - 2 ? 0.25f : t % 2 == 0 ? 0.125f - (t / 2 / 1024f) : 0.375f + (t / 2 / 1024f);
        }

        // One date at the mean 0.25, one at +3/16 and three at -1/16 from it: the weighted
        // mean of the others is off y, so the corrected step moves.
        pixels[5].AsSpan().Fill(float.NaN);
        pixels[5].AsSpan(0, 5 * nb).Clear();
        float[] offsets = [0, 3 / 16f, -1 / 16f, -1 / 16f, -1 / 16f];
        for (var t = 0; t < offsets.Length; t++)
        {
            pixels[5][t * nb] = 0.25f + offsets[t];
        }

        return pixels;
    }

    [Fact]
    public void MedianOfSymmetricPointsIsTheirCentreAndResistsOutlier()
    {
        // Five points: four at the corners of a square around (0.2, 0.2) and an outlier far away.
        float[] corners = [0.1f, 0.1f, 0.3f, 0.1f, 0.1f, 0.3f, 0.3f, 0.3f];
        var values = new float[2 * 5];
        corners.CopyTo(values, 0);
        values[8] = 5f;
        values[9] = 5f;

        // A (y=1, x=1, band=2, time=5) stack.
        var stack = new float[10];
        for (var t = 0; t < 5; t++)
        {
            stack[(0 * 5) + t] = values[(t * 2) + 0];
            stack[(1 * 5) + t] = values[(t * 2) + 1];
        }

        var result = GeometricMedian.Compute(new BandStack(NdArray.Create(stack, 1, 1, 2, 5)), Scaling.Identity, eps: 1e-9);
        Assert.InRange(result.Values[0], 0.2f, 0.26f);
        Assert.InRange(result.Values[1], 0.2f, 0.26f);
        Assert.Equal(0f, Math.Abs(result.Values[0] - result.Values[1]), 5);
    }

    [Fact]
    public void NaNDatesAreDroppedAndAllNaNPixelIsNaN()
    {
        // Two pixels, one band, three dates: pixel 0 has a NaN date, pixel 1 only NaN.
        float[] stack = [0.1f, float.NaN, 0.3f, float.NaN, float.NaN, float.NaN];
        var result = GeometricMedian.Compute(new BandStack(NdArray.Create(stack, 1, 2, 1, 3)), Scaling.Identity);
        Assert.Equal(0.2f, result.Values[0], 5);
        Assert.True(float.IsNaN(result.Values[1]));
        Assert.Equal(1, result.PixelsWithoutData);
        Assert.Equal(2, result.MinDatesUsed);
    }

    [Fact]
    public void ResultDoesNotDependOnThreadCount()
    {
        var rng = new Random(9);
        var stack = Enumerable.Range(0, 6 * 5 * 10 * 8).Select(_ => (float)rng.NextDouble()).ToArray();
        var array = NdArray.Create(stack, 6, 5, 10, 8);
        var one = GeometricMedian.Compute(new BandStack(array), Scaling.Identity, maxDegreeOfParallelism: 1);
        var two = GeometricMedian.Compute(new BandStack(array), Scaling.Identity, maxDegreeOfParallelism: 2);
        Assert.Equal(one.Values, two.Values);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    [InlineData(2)]
    public void LoadPutsEachChannelWhereOffsetSays(int lanes)
    {
        // Planes of a chunk (room past the last lane: whole vectors) and planes that end at
        // the last pixel (one value at a time); lanes past the pixels get no data.
        const int nb = 3, nt = 6, stride = 11;
        var rng = new Random(lanes);
        var solver = LaneSolver.Create(nb, nt, lanes);
        foreach (var (count, length) in new[] { (lanes, nb * nt * stride), (lanes - 1, nb * nt * stride), (lanes - 1, ((nb * nt) - 1) * stride + lanes - 1) })
        {
            var planes = Enumerable.Range(0, length).Select(i => i % 7 == 3 ? float.NaN : (float)rng.NextDouble()).ToArray();
            solver.Load(planes, stride, count);
            for (var t = 0; t < nt; t++)
            {
                for (var b = 0; b < nb; b++)
                {
                    for (var l = 0; l < lanes; l++)
                    {
                        var expected = l < count ? planes[(((b * nt) + t) * stride) + l] : double.NaN;
                        Assert.Equal(expected, solver.X[solver.Offset(t, b) + l]);
                    }
                }
            }
        }
    }

    [Fact]
    public void ComputeGivesEachPixelItsScalarMedian()
    {
        // Rows of 13 pixels: whole blocks of lanes and a part block; dates dropped at random,
        // and one pixel without data.
        const int h = 3, w = 13, nb = 10, nt = 7;
        var rng = new Random(5);
        var stack = new float[h * w * nb * nt];
        for (var i = 0; i < stack.Length; i++)
        {
            stack[i] = rng.Next(20) == 0 ? float.NaN : (float)(rng.NextDouble() * 0.5);
        }

        stack.AsSpan(17 * nb * nt, nb * nt).Fill(float.NaN);
        var result = GeometricMedian.Compute(new BandStack(NdArray.Create(stack, h, w, nb, nt)), Scaling.Identity);

        long iterations = 0;
        for (var p = 0; p < h * w; p++)
        {
            var pixel = stack.AsSpan(p * nb * nt, nb * nt).ToArray();
            int[] used = [.. Enumerable.Range(0, nt).Where(t => Enumerable.Range(0, nb).All(b => !float.IsNaN(pixel[(b * nt) + t])))];
            float[] x = [.. used.SelectMany(t => Enumerable.Range(0, nb).Select(b => pixel[(b * nt) + t]))];
            var y = new double[nb];
            if (used.Length > 0)
            {
                iterations += GeometricMedian.Solve(x, used.Length, nb, 1e-4, 2000, y, new double[nb], new double[nb], new double[nt]);
            }

            for (var b = 0; b < nb; b++)
            {
                Assert.Equal(used.Length == 0 ? float.NaN : (float)y[b], result.Values[(p * nb) + b]);
            }
        }

        Assert.Equal(iterations, result.TotalIterations);
        Assert.Equal(1, result.PixelsWithoutData);
    }
}
