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
    [InlineData(200, 9, 9, 2048, 40)] // the published spectral forest's shape
    [InlineData(17, 9, 9, 2500, 40)]
    [InlineData(1, 2, 1, 64, 40)]
    [InlineData(9, 2, 2, 100, 40)]
    [InlineData(10, 3, 3, 96, 40)]
    [InlineData(11, 4, 4, 250, 40)]
    [InlineData(12, 5, 5, 31, 40)]
    [InlineData(13, 6, 8, 320, 40)]
    [InlineData(14, 7, 12, 200, 40)]
    [InlineData(15, 8, 16, 1000, 40)]
    [InlineData(33, 9, 6, 600, 40)]
    [InlineData(20, 9, 9, 700, 5000)]
    [InlineData(20, 8, 16, 300, 3000)]
    [InlineData(10, 9, 3, 200, 16000)]
    [InlineData(100, 9, 1, 700, 40000)] // up to 16,383 thresholds: the upper byte's full range
    public void MarginsEqualNodeByNode(int trees, int depth, int features, int n, int gridSize)
    {
        if (!ShuffleForest.RunsHere)
        {
            return;
        }

        var rng = new Random((trees * 31) + depth + gridSize);
        var grid = DenseForests.Grid(rng, gridSize);
        var ens = DenseForests.Summed(rng, trees, depth, features, grid);
        var shuffles = ShuffleForest.TryCreate(ens);
        Assert.NotNull(shuffles);

        var stride = n + 5;
        var (planes, pixelMajor) = ForestPixels.Make(rng, features, n, stride, grid);

        KernelSwitches.AssertMarginsEqualWalk(ens, planes, pixelMajor, stride, n, TreeKernel.Shuffles, ShuffleForest.Lanes, (whole, dest) => shuffles.Accumulate(planes, stride, whole, dest));
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
