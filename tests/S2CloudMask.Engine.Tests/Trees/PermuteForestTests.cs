using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>
/// The permute kernel (64 pixels in byte lanes, every table in registers) against the
/// node-by-node walk, margin for margin and bit for bit: every width of the blend tree that
/// picks a lane's feature (1-16 features), every table size (depths 2-9: 64, 128 and 256
/// entries, Top's 512 at its sixth level, the last level's decision into the leaves), more
/// than 16 blocks (several slices), the ranks' last search steps by a window of 16 cuts and,
/// past 8,192 thresholds, by gathers,
/// pixel counts that are not a multiple of 64 (the tail padded to a vector of 64), thousands of
/// thresholds per feature (ranks with both bytes in use, up to 16,383), ties, -0 and +0 and
/// infinities.
/// </summary>
[Collection(KernelSwitches.Name)]
public sealed class PermuteForestTests
{
    [Theory]
    [MemberData(nameof(DenseForests.Shapes), MemberType = typeof(DenseForests))]
    public void MarginsEqualNodeByNode(int trees, int depth, int features, int n, int gridSize)
    {
        if (PermuteForest.RunsHere)
        {
            DenseForests.AssertKernelEqualsWalk(trees, depth, features, n, gridSize, TreeKernel.Permutes, PermuteForest.TryCreate);
        }
    }

    [Fact]
    public void RefusesWhatItCannotHold()
    {
        var rng = new Random(5);
        var grid = DenseForests.Grid(rng);
        Assert.Null(PermuteForest.TryCreate(DenseForests.Summed(rng, 7, 6, 4, grid))); // too few trees
        Assert.Null(PermuteForest.TryCreate(DenseForests.Summed(rng, 20, 6, 17, grid))); // 17 features
        Assert.Null(PermuteForest.TryCreate(DenseForests.Summed(rng, 20, 10, 4, grid))); // depth 10
        Assert.Null(PermuteForest.TryCreate(DenseForests.Summed(rng, 20, 1, 4, grid))); // stumps: no level before the last
        Assert.Null(PermuteForest.TryCreate(DenseForests.Summed(rng, 400, 9, 1, DenseForests.Grid(rng, 40000)))); // 16,384 thresholds or more
        Assert.Null(PermuteForest.TryCreate(DenseForests.Summed(rng, 20, 9, 4, grid, earlyLeaf: 2))); // sparse: few leaves for its depth
        Assert.NotNull(PermuteForest.TryCreate(DenseForests.Summed(rng, 20, 9, 16, grid)));
    }
}
