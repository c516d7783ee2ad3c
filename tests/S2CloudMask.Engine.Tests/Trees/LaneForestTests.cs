using System.Runtime.Intrinsics.X86;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>
/// The trees-in-lanes kernel against the node-by-node walk, margin for margin and bit for
/// bit: forests whose tree count is not a multiple of 16, leaves at every depth, thresholds
/// shared by several trees, -0 and +0, infinities, and pixel values exactly on thresholds;
/// and the transpose that adds the leaves in tree order.
/// </summary>
[Collection(KernelSwitches.Name)]
public sealed class LaneForestTests
{
    /// <summary>
    /// Sixteen trees per vector (AVX-512) and eight (AVX2); with eight, forests of 9, 11 and
    /// 16 features take the pixels' upper words too.
    /// </summary>
    [Theory]
    [InlineData(16, 17, 9, 9, 2048, 5)]
    [InlineData(16, 40, 4, 3, 1000, 5)]
    [InlineData(16, 16, 12, 16, 512, 40)]
    [InlineData(16, 8, 6, 5, 17, 5)]
    [InlineData(16, 33, 10, 11, 333, 10)]
    [InlineData(8, 17, 9, 9, 2048, 5)]
    [InlineData(8, 40, 4, 3, 1000, 5)]
    [InlineData(8, 16, 12, 16, 512, 40)]
    [InlineData(8, 8, 6, 5, 17, 5)]
    [InlineData(8, 33, 10, 11, 333, 10)]
    public void MarginsEqualNodeByNode(int width, int trees, int depth, int features, int n, int earlyLeaf)
    {
        if (width == 16 ? !LaneForest.IsHardwareSupported : !Avx2.IsSupported)
        {
            return;
        }

        var rng = new Random((trees * 31) + depth);
        var grid = Grid(rng);
        var ens = Forest(rng, trees, depth, features, grid, earlyLeaf);
        var lanes = LaneForest.TryCreate(ens, width);
        Assert.NotNull(lanes);

        var stride = n + 7;
        var (planes, pixelMajor) = ForestPixels.Make(rng, features, n, stride, grid);

        KernelSwitches.AssertMarginsEqualWalk(ens, planes, pixelMajor, stride, n, TreeKernel.Lanes, LaneForest.Lanes, (whole, dest) => lanes.Accumulate(planes, stride, whole, dest));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(8)]
    public void RefusesWhatItCannotHold(int width)
    {
        var rng = new Random(5);
        var grid = Grid(rng);
        Assert.Null(LaneForest.TryCreate(Forest(rng, 7, 6, 4, grid), width)); // too few trees
        Assert.Null(LaneForest.TryCreate(Forest(rng, 20, 6, 17, grid), width)); // 17 features
        Assert.Null(LaneForest.TryCreate(Forest(rng, 20, 13, 4, grid), width)); // depth 13
        Assert.Null(LaneForest.TryCreate(Forest(rng, 20, 12, 4, grid, earlyLeaf: 2), width)); // sparse: few leaves for its depth
        Assert.NotNull(LaneForest.TryCreate(Forest(rng, 20, 6, 4, grid), width));
    }

    [Theory]
    [InlineData(16, 16)]
    [InlineData(16, 9)]
    [InlineData(16, 1)]
    [InlineData(8, 8)]
    [InlineData(8, 5)]
    [InlineData(8, 1)]
    public unsafe void AddColumnsAddsEachPixelsTreesInOrder(int width, int trees)
    {
        if (width == 16 ? !Avx512F.IsSupported : !Avx2.IsSupported)
        {
            return;
        }

        var rng = new Random(trees);
        var rows = new float[width * width];
        for (var i = 0; i < rows.Length; i++)
        {
            // Magnitudes far apart, so any other order of the adds rounds differently.
            rows[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-4, 5)));
        }

        var acc = Enumerable.Range(0, width).Select(j => 0.1f * j).ToArray();
        var expected = (float[])acc.Clone();
        for (var j = 0; j < width; j++)
        {
            for (var t = 0; t < trees; t++)
            {
                expected[j] += rows[(j * width) + t];
            }
        }

        fixed (float* r = rows)
        fixed (float* a = acc)
        {
            if (width == 16)
            {
                LaneForest.AddColumns(r, trees, a);
            }
            else
            {
                LaneForest.AddColumns8(r, trees, a);
            }
        }

        Assert.Equal(expected, acc);
    }

    private static float[] Grid(Random rng) => DenseForests.Grid(rng);

    private static TreeEnsemble Forest(Random rng, int trees, int depth, int features, float[] grid, int earlyLeaf = 5) =>
        DenseForests.Summed(rng, trees, depth, features, grid, earlyLeaf);
}
