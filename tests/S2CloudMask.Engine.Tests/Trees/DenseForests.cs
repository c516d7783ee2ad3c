using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>Random summed forests of deep, mostly complete trees, for the kernels that lay trees out level by level.</summary>
internal static class DenseForests
{
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
