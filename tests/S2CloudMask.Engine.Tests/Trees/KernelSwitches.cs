using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>
/// The test classes that switch <c>LevelForest.Kernel</c> or <c>LevelForest.Express</c>,
/// process-wide settings: run one after another, so that one class's switch cannot turn off
/// the path another class is checking (the express lane must have run, for one).
/// </summary>
[CollectionDefinition(Name)]
public sealed class KernelSwitches
{
    public const string Name = "LevelForest kernel switches";

    /// <summary>
    /// Runs <paramref name="check"/> with each tree kernel switched on in turn, then the
    /// default back; a failure names the kernel.
    /// </summary>
    internal static void ForEachKernel(Action check)
    {
        foreach (var kernel in Enum.GetValues<TreeKernel>())
        {
            try
            {
                With(kernel, check);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new Xunit.Sdk.XunitException($"with the {kernel} kernel: {e.Message}");
            }
        }
    }

    /// <summary>
    /// A kernel's margins against the node-by-node walk, bit for bit: first
    /// <paramref name="accumulate"/>(whole, dest) called directly on the pixels in whole
    /// blocks of <paramref name="lanes"/>, dest holding the base margin; then through the
    /// ensemble with <paramref name="kernel"/> switched on, the tail past the last block walked.
    /// </summary>
    internal static void AssertMarginsEqualWalk(TreeEnsemble ens, float[] planes, float[] pixelMajor, int stride, int n, TreeKernel kernel, int lanes, Action<int, float[]> accumulate)
    {
        var expected = new float[n];
        ens.PredictBlock(pixelMajor, n, expected); // aggregation "sum": margins
        var whole = n - (n % lanes);
        var actual = new float[n];
        Array.Fill(actual, ens.BaseMargin);
        accumulate(whole, actual);
        Assert.Equal(expected.AsSpan(0, whole).ToArray(), actual.AsSpan(0, whole).ToArray());

        With(kernel, () =>
        {
            Array.Fill(actual, float.NaN);
            ens.PredictPlanes(planes, stride, n, actual);
            Assert.Equal(expected, actual);
        });
    }

    /// <summary>Runs <paramref name="check"/> with <paramref name="kernel"/> switched on, then the default back.</summary>
    internal static void With(TreeKernel kernel, Action check)
    {
        LevelForest.Kernel = kernel;
        try
        {
            check();
        }
        finally
        {
            LevelForest.Kernel = LevelForest.DefaultKernel;
        }
    }
}

/// <summary>Feature values for the tree kernel tests, as planes and pixel-major.</summary>
internal static class ForestPixels
{
    /// <summary>
    /// <paramref name="n"/> pixels of <paramref name="features"/> values, planes
    /// <paramref name="stride"/> apart: mostly values from <paramref name="onGrid"/> (the
    /// forest's thresholds: ties), some between, -0 and both infinities.
    /// </summary>
    public static (float[] Planes, float[] PixelMajor) Make(Random rng, int features, int n, int stride, float[] onGrid)
    {
        var planes = new float[features * stride];
        var pixelMajor = new float[n * features];
        for (var i = 0; i < n; i++)
        {
            for (var f = 0; f < features; f++)
            {
                var v = rng.Next(20) switch
                {
                    0 => float.NegativeInfinity,
                    1 => float.PositiveInfinity,
                    2 => -0f,
                    3 => (float)((rng.NextDouble() * 2) - 1),
                    _ => onGrid.Length > 0 ? onGrid[rng.Next(onGrid.Length)] : 0f,
                };
                planes[(f * stride) + i] = v;
                pixelMajor[(i * features) + f] = v;
            }
        }

        return (planes, pixelMajor);
    }
}
