using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Tests.Support;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary><see cref="TreeEnsemble.ForMask"/>: a single tree cut down to what a mask at a threshold needs.</summary>
public sealed class MaskCutTests
{
    private static readonly float[] Thresholds = [0.5f, 0.25f, 0.75f, 0f, 1f, -1f, 2f];

    /// <summary>
    /// A random tree of probabilities (leaves on a grid that includes the thresholds, so ties
    /// occur), random missing-value directions: for every threshold the cut tree says 1
    /// exactly where the tree's probability is above it, NaN features included, node by node
    /// and through the block evaluator.
    /// </summary>
    [Theory]
    [InlineData(3, 4, 1)]
    [InlineData(8, 5, 2)]
    [InlineData(11, 11, 3)]
    public void CutTreeSaysWhetherProbabilityIsAboveThreshold(int depth, int features, int seed)
    {
        var rng = new Random(seed);
        var grid = DenseForests.Grid(rng);
        var summed = DenseForests.Summed(rng, 1, depth, features, grid, earlyLeaf: 3);
        var tree = new TreeEnsemble(
            "sklearn-decision-tree",
            features,
            summed.Nodes,
            [.. summed.Nodes.Select(_ => rng.Next(2) == 0)],
            [.. summed.Leaves.Select(_ => rng.Next(5) / 4f)],
            summed.Roots,
            Aggregation.Average,
            0);

        const int N = 3000;
        var (planes, pixelMajor) = ForestPixels.Make(rng, features, N, N, grid);
        var withNaN = pixelMajor.Select(v => rng.Next(15) == 0 ? float.NaN : v).ToArray();
        foreach (var t in Thresholds)
        {
            var cut = tree.ForMask(t);
            Assert.NotNull(cut);
            AssertNoUniformSplit(cut);
            for (var i = 0; i < N; i++)
            {
                var x = withNaN.AsSpan(i * features, features);
                Assert.Equal(tree.Predict(x) > t ? 1f : 0f, cut.Predict(x));
            }

            var full = new float[N];
            var cutPlanes = new float[N];
            tree.PredictPlanes(planes, N, N, full);
            cut.PredictPlanes(planes, N, N, cutPlanes);
            Assert.Equal(full.Select(p => p > t ? 1f : 0f), cutPlanes);
        }
    }

    [SharedFact]
    public void PublishedTreesShrinkAndSumsAreNotCut()
    {
        SharedData.Require();
        var fast = ModelFile.Load(SharedData.Model("fast")).Ensemble;
        var cut = fast.ForMask(0.5f)!;
        Assert.Equal(683, fast.Leaves.Length);
        Assert.Equal(198, LeafCount(cut));
        Assert.Equal(11, cut.MaxDepth);

        var shadow = ModelFile.Load(SharedData.Model("fast-shadow")).Ensemble.ForMask(0.5f)!;
        Assert.Equal(4, LeafCount(shadow));
        Assert.Equal(3, shadow.MaxDepth);

        Assert.Null(ModelFile.Load(SharedData.Model("spectral")).Ensemble.ForMask(0.5f));
        Assert.Null(fast.ForMask(float.NaN));
    }

    [SharedFact]
    public void ModelKeepsOneCutPerThreshold()
    {
        SharedData.Require();
        var model = ModelFile.Load(SharedData.Model("fast"));
        var cut = model.ForMask(0.3f)!;
        Assert.Same(cut, model.ForMask(0.3f));
        Assert.Equal(0.5f, cut.Threshold);
        Assert.Same(model.Features, cut.Features);
        Assert.Equal(model.Opening, cut.Opening);
        Assert.NotSame(cut, model.ForMask(0.4f));
        for (var i = 0; i < 20; i++)
        {
            Assert.NotNull(model.ForMask(i / 20f));
        }

        Assert.Null(ModelFile.Load(SharedData.Model("spectral")).ForMask(0.5f));
    }

    /// <summary>Every split of the cut tree has both answers below it: nothing left to merge.</summary>
    private static void AssertNoUniformSplit(TreeEnsemble cut)
    {
        Assert.Equal([0f, 1f], cut.Leaves);
        if (cut.Roots[0] >= 0)
        {
            Assert.Equal(3, Answers(cut, cut.Roots[0]));
        }

        static int Answers(TreeEnsemble e, int node)
        {
            if (node < 0)
            {
                return 1 << ~node;
            }

            var (l, r) = (Answers(e, e.Nodes[node].Left), Answers(e, e.Nodes[node].Right));
            Assert.Equal(3, l | r);
            return l | r;
        }
    }

    private static int LeafCount(TreeEnsemble e) => e.Nodes.Length + 1;
}
