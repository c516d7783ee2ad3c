using System.Runtime.Intrinsics.X86;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>
/// The leaf-mask kernel against the node-by-node walk, margin for margin and bit for bit:
/// trees of 1 to 32 leaves grown at random places (so deep, lopsided ones too), thresholds
/// shared between trees with -0, +0 and both infinities, pixel values on the thresholds,
/// pixel counts that are not a multiple of 16 or 64, and both ways of testing a split (a
/// compare each, or one shared mask per distinct test).
/// </summary>
[Collection(KernelSwitches.Name)]
public sealed class MaskForestTests
{
    /// <summary>
    /// With a grid of 30 thresholds the splits seldom repeat a test and each split compares;
    /// with a grid of 6 (or 3) most do and the forest shares its tests (asserted), except in
    /// the AVX2 kernel (<paramref name="avx2"/>: eight pixels a vector, leaf k at bit k),
    /// which always compares.
    /// </summary>
    [Theory]
    [InlineData(100, 16, 9, 2048, 30, false)]
    [InlineData(7, 32, 31, 1000, 30, false)]
    [InlineData(40, 2, 3, 333, 30, false)]
    [InlineData(12, 1, 4, 80, 30, false)]
    [InlineData(1, 32, 5, 4099, 30, false)]
    [InlineData(25, 0, 16, 530, 30, false)] // 0: every tree its own size, 1 to 32 leaves
    [InlineData(100, 16, 9, 2048, 6, true)]
    [InlineData(30, 0, 4, 1000, 6, true)]
    [InlineData(9, 32, 2, 4099, 3, true)]
    [InlineData(64, 5, 8, 530, 2, true)]
    [InlineData(100, 16, 9, 2048, 30, false, true)]
    [InlineData(7, 32, 31, 1000, 30, false, true)]
    [InlineData(40, 2, 3, 333, 30, false, true)]
    [InlineData(12, 1, 4, 80, 30, false, true)]
    [InlineData(1, 32, 5, 4099, 30, false, true)]
    [InlineData(25, 0, 16, 530, 30, false, true)]
    [InlineData(100, 16, 9, 2048, 6, false, true)]
    [InlineData(9, 32, 2, 4099, 3, false, true)]
    public void MarginsEqualNodeByNode(int trees, int leaves, int features, int n, int grid, bool shared, bool avx2 = false)
    {
        if (avx2 ? !Avx2.IsSupported : !MaskForest.IsHardwareSupported)
        {
            return;
        }

        var rng = new Random((trees * 37) + leaves);
        var sizes = Enumerable.Range(0, trees).Select(_ => leaves > 0 ? leaves : rng.Next(1, 33)).ToArray();
        var ens = Forest(rng, sizes, features, grid);
        var masks = MaskForest.TryCreate(ens, avx2);
        Assert.NotNull(masks);
        Assert.Equal(shared, masks.SharesTests);

        var stride = n + 3;
        var (planes, pixelMajor) = ForestPixels.Make(rng, features, n, stride, [.. ens.Nodes.Select(x => x.Threshold)]);
        KernelSwitches.AssertMarginsEqualWalk(ens, planes, pixelMajor, stride, n, TreeKernel.Masks, MaskForest.Lanes, (whole, dest) => masks.Accumulate(planes, stride, whole, dest));
    }

    [Fact]
    public void RefusesTreesOfMoreThan32Leaves()
    {
        var rng = new Random(3);
        foreach (var avx2 in new[] { false, true })
        {
            Assert.NotNull(MaskForest.TryCreate(Forest(rng, [32, 32, 32], 4), avx2));
            Assert.Null(MaskForest.TryCreate(Forest(rng, [33, 33, 33], 4), avx2));

            // One big tree among small ones is enough to refuse.
            Assert.Null(MaskForest.TryCreate(Forest(rng, [5, 5, 40, 5], 4), avx2));
        }
    }

    /// <summary>
    /// A summed forest (margins, base 0.25), tree t with <c>sizes[t]</c> leaves, grown by
    /// splitting a random leaf until the count is reached; thresholds from a small shared grid
    /// of <paramref name="gridSize"/> values and -0, +0 and both infinities.
    /// </summary>
    private static TreeEnsemble Forest(Random rng, int[] sizes, int features, int gridSize = 30)
    {
        var trees = sizes.Length;
        float[] grid = [.. Enumerable.Range(0, gridSize).Select(_ => MathF.Round((float)((rng.NextDouble() * 2) - 1), 2)), -0f, 0f, float.NegativeInfinity, float.PositiveInfinity];
        var nodes = new List<TreeNode>();
        var values = new List<float>();
        var roots = new int[trees];
        for (var t = 0; t < trees; t++)
        {
            var size = sizes[t];

            // Children slots still holding a leaf: (node, is right child), or (-1, _) for a root leaf.
            var open = new List<(int Node, bool Right)> { (-1, false) };
            var root = ~Leaf();
            for (var k = 1; k < size; k++)
            {
                var at = rng.Next(open.Count);
                var (parent, right) = open[at];
                var split = nodes.Count;
                nodes.Add(new TreeNode(rng.Next(features), grid[rng.Next(grid.Length)], ~Leaf(), ~Leaf()));
                if (parent < 0)
                {
                    root = split;
                }
                else
                {
                    nodes[parent] = right ? nodes[parent] with { Right = split } : nodes[parent] with { Left = split };
                }

                open.RemoveAt(at);
                open.Add((split, false));
                open.Add((split, true));
            }

            roots[t] = root;
        }

        // Leaves no longer referenced (split away) stay in the array: harmless.
        return new TreeEnsemble("test", features, [.. nodes], [.. nodes.Select(_ => true)], [.. values], roots, Aggregation.Sum, 0.25f);

        int Leaf()
        {
            values.Add(MathF.Round((float)(rng.NextDouble() - 0.5), 4) + (float)(rng.NextDouble() * 1e-3));
            return values.Count - 1;
        }
    }
}
