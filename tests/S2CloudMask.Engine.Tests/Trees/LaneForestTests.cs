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
    [Theory]
    [InlineData(17, 9, 9, 2048, 5)]
    [InlineData(40, 4, 3, 1000, 5)]
    [InlineData(16, 12, 16, 512, 40)]
    [InlineData(8, 6, 5, 17, 5)]
    [InlineData(33, 10, 11, 333, 10)]
    public void MarginsEqualNodeByNode(int trees, int depth, int features, int n, int earlyLeaf)
    {
        if (!LaneForest.IsHardwareSupported)
        {
            return;
        }

        var rng = new Random((trees * 31) + depth);
        var grid = Grid(rng);
        var ens = Forest(rng, trees, depth, features, grid, earlyLeaf);
        var lanes = LaneForest.TryCreate(ens);
        Assert.NotNull(lanes);

        var stride = n + 7;
        var (planes, pixelMajor) = ForestPixels.Make(rng, features, n, stride, grid);

        KernelSwitches.AssertMarginsEqualWalk(ens, planes, pixelMajor, stride, n, TreeKernel.Avx512Lanes, LaneForest.Lanes, (whole, dest) => lanes.Accumulate(planes, stride, whole, dest));
    }

    [Fact]
    public void RefusesWhatItCannotHold()
    {
        var rng = new Random(5);
        var grid = Grid(rng);
        Assert.Null(LaneForest.TryCreate(Forest(rng, 7, 6, 4, grid))); // too few trees
        Assert.Null(LaneForest.TryCreate(Forest(rng, 20, 6, 17, grid))); // 17 features
        Assert.Null(LaneForest.TryCreate(Forest(rng, 20, 13, 4, grid))); // depth 13
        Assert.Null(LaneForest.TryCreate(Forest(rng, 20, 12, 4, grid, earlyLeaf: 2))); // sparse: few leaves for its depth
        Assert.NotNull(LaneForest.TryCreate(Forest(rng, 20, 6, 4, grid)));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(9)]
    [InlineData(1)]
    public unsafe void AddColumnsAddsEachPixelsTreesInOrder(int trees)
    {
        if (!Avx512F.IsSupported)
        {
            return;
        }

        var rng = new Random(trees);
        var rows = new float[16 * 16];
        for (var i = 0; i < rows.Length; i++)
        {
            // Magnitudes far apart, so any other order of the adds rounds differently.
            rows[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-4, 5)));
        }

        var acc = Enumerable.Range(0, 16).Select(j => 0.1f * j).ToArray();
        var expected = (float[])acc.Clone();
        for (var j = 0; j < 16; j++)
        {
            for (var t = 0; t < trees; t++)
            {
                expected[j] += rows[(j * 16) + t];
            }
        }

        fixed (float* r = rows)
        fixed (float* a = acc)
        {
            LaneForest.AddColumns(r, trees, a);
        }

        Assert.Equal(expected, acc);
    }

    /// <summary>Threshold values the trees share: a small grid with -0, +0 and both infinities.</summary>
    private static float[] Grid(Random rng) =>
        [.. Enumerable.Range(0, 40).Select(_ => MathF.Round((float)((rng.NextDouble() * 2) - 1), 2)), -0f, 0f, float.NegativeInfinity, float.PositiveInfinity];

    /// <summary>
    /// A summed forest (margins, base 0.25): every tree reaches <paramref name="depth"/>
    /// (its leftmost path), other leaves from depth 2 on, one node in <paramref name="earlyLeaf"/>;
    /// thresholds from the shared grid.
    /// </summary>
    private static TreeEnsemble Forest(Random rng, int trees, int depth, int features, float[] grid, int earlyLeaf = 5)
    {
        var nodes = new List<TreeNode>();
        var leaves = new List<float>();
        var roots = new int[trees];
        for (var t = 0; t < trees; t++)
        {
            roots[t] = Grow(0, true);
        }

        return new TreeEnsemble("test", features, [.. nodes], [.. nodes.Select(_ => true)], [.. leaves], roots, Aggregation.Sum, 0.25f);

        // Returns the child reference: node index, or ~leaf.
        int Grow(int level, bool spine)
        {
            if (level == depth || (!spine && level >= 2 && rng.Next(earlyLeaf) == 0))
            {
                leaves.Add(MathF.Round((float)(rng.NextDouble() - 0.5), 4));
                return ~(leaves.Count - 1);
            }

            var self = nodes.Count;
            nodes.Add(default);
            var left = Grow(level + 1, spine);
            var right = Grow(level + 1, false);
            nodes[self] = new TreeNode(rng.Next(features), grid[rng.Next(grid.Length)], left, right);
            return self;
        }
    }
}
