using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>
/// The shuffle kernel (AVX2: 32 pixels in byte lanes, 16-entry table chunks) against the
/// node-by-node walk, margin for margin and bit for bit: every width of the blend tree that
/// picks a lane's feature (1-16 features), every level's chunk count (depths 2-9: one chunk
/// to level 4, then 2, 4, 8 and 16 blended), more than 16 blocks (several slices), pixel
/// counts that are not a multiple of 64 (the tail padded to a call of 64), thousands of
/// thresholds per feature (ranks with both bytes in use, up to 16,383), ties, -0 and +0 and
/// infinities.
/// </summary>
[Collection(KernelSwitches.Name)]
public sealed class ShuffleForestTests
{
    [Theory]
    [MemberData(nameof(DenseForests.Shapes), MemberType = typeof(DenseForests))]
    [InlineData(1, 2, 1, 64, 40)] // a single tree
    public void MarginsEqualNodeByNode(int trees, int depth, int features, int n, int gridSize)
    {
        if (ShuffleForest.RunsHere)
        {
            DenseForests.AssertKernelEqualsWalk(trees, depth, features, n, gridSize, TreeKernel.Shuffles, ShuffleForest.TryCreate);
        }
    }

    [Fact]
    public void RefusesWhatItCannotHold()
    {
        var rng = new Random(5);
        var grid = DenseForests.Grid(rng);
        Assert.Null(ShuffleForest.TryCreate(DenseForests.Summed(rng, 20, 6, 17, grid))); // 17 features
        Assert.Null(ShuffleForest.TryCreate(DenseForests.Summed(rng, 20, 10, 4, grid))); // depth 10
        Assert.Null(ShuffleForest.TryCreate(DenseForests.Summed(rng, 20, 1, 4, grid))); // stumps: no level before the last
        Assert.Null(ShuffleForest.TryCreate(DenseForests.Summed(rng, 400, 9, 1, DenseForests.Grid(rng, 40000)))); // 16,384 thresholds or more
        Assert.Null(ShuffleForest.TryCreate(DenseForests.Summed(rng, 20, 9, 4, grid, earlyLeaf: 2))); // sparse: few leaves for its depth
        Assert.NotNull(ShuffleForest.TryCreate(DenseForests.Summed(rng, 20, 9, 16, grid)));
    }
}
