using S2CloudMask.Engine.Geomedian;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Engine.Tests.Geomedian;

public sealed class GeometricMedianTests
{
    [Theory]
    [InlineData(30, 1)]
    [InlineData(7, 2)]
    [InlineData(1, 3)]
    public void VectorSolverEqualsScalarTwin(int n, int seed)
    {
        const int nb = 10;
        var rng = new Random(seed);
        var pixelMajor = new float[n * nb];
        for (var i = 0; i < pixelMajor.Length; i++)
        {
            pixelMajor[i] = (float)(rng.NextDouble() * 0.4);
        }

        var padded = (n + 3) / 4 * 4;
        var bandMajor = new double[nb * padded];
        for (var i = 0; i < n; i++)
        {
            for (var b = 0; b < nb; b++)
            {
                bandMajor[(b * padded) + i] = pixelMajor[(i * nb) + b];
            }
        }

        var ys = new double[nb];
        var yv = new double[nb];
        var itS = GeometricMedian.Solve(pixelMajor, n, nb, 1e-7, 2000, ys, new double[nb], new double[nb], new double[n]);
        var itV = GeometricMedian.SolveVector(bandMajor, n, nb, 1e-7, 2000, yv);
        for (var b = 0; b < nb; b++)
        {
            Assert.Equal(ys[b], yv[b], 9);
        }

        Assert.InRange(itV, itS - 1, itS + 1);
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
}
