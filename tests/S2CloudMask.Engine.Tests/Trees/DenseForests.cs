using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>Random summed forests of deep, mostly complete trees, for the kernels that lay trees out level by level.</summary>
internal static class DenseForests
{
    /// <summary>
    /// Forest shapes for the rank kernels (trees, depth, features, pixels, grid size): every
    /// width of the blend tree that picks a lane's feature (1-16 features), every table size
    /// (depths 2-9), more than 16 blocks, pixel counts that are not a multiple of 64,
    /// thousands of thresholds per feature (ranks with both bytes in use, up to 16,383).
    /// </summary>
    public static TheoryData<int, int, int, int, int> Shapes => new()
    {
        { 200, 9, 9, 2048, 40 }, // the published spectral forest's shape
        { 17, 9, 9, 2500, 40 },
        { 8, 2, 1, 64, 40 },
        { 9, 2, 2, 100, 40 },
        { 10, 3, 3, 96, 40 },
        { 11, 4, 4, 250, 40 },
        { 12, 5, 5, 31, 40 },
        { 13, 6, 8, 320, 40 },
        { 14, 7, 12, 200, 40 },
        { 15, 8, 16, 1000, 40 },
        { 33, 9, 6, 600, 40 },
        { 20, 9, 9, 700, 5000 },
        { 20, 8, 16, 300, 3000 },
        { 10, 9, 3, 200, 16000 },
        { 12, 7, 2, 300, 120 }, // about 120 thresholds a feature: two of PermuteForest's medium search steps
        { 12, 8, 2, 300, 250 }, // about 250: three
        { 100, 9, 1, 700, 40000 }, // past 8,192 thresholds: PermuteForest's last steps gathered, not a window
    };

    /// <summary>
    /// A rank kernel (<paramref name="create"/> lays the forest out; null fails) against the
    /// node-by-node walk on a random dense forest of that shape, margin for margin and bit for
    /// bit (<see cref="KernelSwitches.AssertMarginsEqualWalk"/>): directly on the whole calls,
    /// then through the ensemble with <paramref name="kernel"/> switched on.
    /// </summary>
    public static void AssertKernelEqualsWalk(int trees, int depth, int features, int n, int gridSize, TreeKernel kernel, Func<TreeEnsemble, IRankForest?> create)
    {
        var rng = new Random((trees * 31) + depth + gridSize);
        var grid = Grid(rng, gridSize);
        var ens = Summed(rng, trees, depth, features, grid);
        var forest = create(ens);
        Assert.NotNull(forest);

        var stride = n + 5;
        var (planes, pixelMajor) = ForestPixels.Make(rng, features, n, stride, grid);
        KernelSwitches.AssertMarginsEqualWalk(ens, planes, pixelMajor, stride, n, kernel, forest.CallPixels, (whole, dest) => forest.Accumulate(planes, stride, whole, dest));
    }

    /// <summary>Threshold values the trees share: a small grid with -0, +0 and both infinities.</summary>
    public static float[] Grid(Random rng, int size = 40) =>
        [.. Enumerable.Range(0, size).Select(_ => MathF.Round((float)((rng.NextDouble() * 2) - 1), size <= 200 ? 2 : 5)), -0f, 0f, float.NegativeInfinity, float.PositiveInfinity];

    /// <summary>
    /// A summed forest (margins, base 0.25): every tree reaches <paramref name="depth"/>
    /// (its leftmost path), other leaves from depth 2 on, one node in <paramref name="earlyLeaf"/>;
    /// thresholds from the shared grid.
    /// </summary>
    public static TreeEnsemble Summed(Random rng, int trees, int depth, int features, float[] grid, int earlyLeaf = 5)
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
