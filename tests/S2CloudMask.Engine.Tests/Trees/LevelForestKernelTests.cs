using System.Text.Json;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Raster;
using S2CloudMask.Engine.Trees;
using S2CloudMask.Testing;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>
/// The level-stepping kernels on random deep forests (past the AVX-512 kernel's register
/// tables, with leaves at many depths) against the node-by-node walk, on pixels whose
/// neighbours share a path (the shortcut for eight lanes on one node or one feature) and
/// on pixels that scatter over the trees.
/// </summary>
[Collection(KernelSwitches.Name)]
public sealed class LevelForestKernelTests
{
    [Theory]
    [InlineData(1, 11, 11, true)]
    [InlineData(1, 11, 11, false)]
    [InlineData(20, 9, 9, true)]
    [InlineData(20, 9, 9, false)]
    [InlineData(5, 12, 17, false)]
    [InlineData(3, 4, 2, true)]
    public void EveryKernelEqualsNodeByNode(int trees, int depth, int features, bool coherent)
    {
        var rng = new Random((trees * 100) + depth + (coherent ? 1 : 0));
        var ens = EnsembleReader.Read(RandomForest(rng, trees, depth, features), features);
        const int n = 1000, stride = 1003;
        var planes = new float[features * stride];
        var pixelMajor = new float[n * features];
        for (var i = 0; i < n; i++)
        {
            for (var f = 0; f < features; f++)
            {
                // Coherent: runs of 24 equal pixels, with a few odd ones inside.
                var v = coherent && i % 24 != 0 && rng.Next(10) != 0
                    ? pixelMajor[((i - 1) * features) + f]
                    : MathF.Round((float)rng.NextDouble(), 2); // often exactly on a threshold
                planes[(f * stride) + i] = v;
                pixelMajor[(i * features) + f] = v;
            }
        }

        var expected = new float[n];
        ens.PredictBlock(pixelMajor, n, expected);
        var actual = new float[n];
        KernelSwitches.ForEachKernel(() =>
        {
            Array.Fill(actual, float.NaN);
            ens.PredictPlanes(planes, stride, n, actual);
            Assert.Equal(expected, actual);
        });
    }

    /// <summary>
    /// The published models and our own built-in ones (<c>ours/</c>: 100 trees of 16 leaves,
    /// the leaf-mask kernel's) on the features of real pixels: every kernel, every bit.
    /// </summary>
    [SharedTheory]
    [InlineData("fast")]
    [InlineData("spectral")]
    [InlineData("fast-shadow")]
    [InlineData("ours/spectral")]
    [InlineData("ours/temporal")]
    [InlineData("ours/fast")]
    public void EveryKernelEqualsNodeByNodeOnPublishedModels(string name)
    {
        var model = ModelFile.Load(name.StartsWith("ours/", StringComparison.Ordinal)
            ? Path.Combine(SharedData.RepositoryRoot!, "src", "Api", "Models", "BuiltIn", name[5..] + ".model.json")
            : SharedData.Model(name));
        var image = BandImage.FromArray(Npy.Read(SharedData.Data("clear-wright-20160101.npy")));
        const int n = 2048;
        var stride = n;
        var planes = new float[image.Bands * stride];
        PixelDecoder.Decode(image, Scaling.Identity, 150L * image.Width, n, planes, stride);
        var nf = model.Features.FeatureCount;
        var features = new float[nf * stride];
        model.Features.Evaluate(planes, planes, stride, n, features, new float[Math.Max(1, model.Features.ScratchLength(stride))]);
        var pixelMajor = new float[n * nf];
        for (var f = 0; f < nf; f++)
        {
            for (var i = 0; i < n; i++)
            {
                pixelMajor[(i * nf) + f] = features[(f * stride) + i];
            }
        }

        Assert.DoesNotContain(features, float.IsNaN); // the level-stepping kernels take NaN-free blocks
        var expected = new float[n];
        model.Ensemble.PredictBlock(pixelMajor, n, expected);
        var actual = new float[n];
        KernelSwitches.ForEachKernel(() =>
        {
            Array.Fill(actual, float.NaN);
            model.Ensemble.PredictPlanes(features, stride, n, actual);
            Assert.Equal(expected, actual);
        });
    }

    /// <summary>
    /// The express lane of a single tree: a share of the pixels in one leaf (values drawn
    /// from that leaf's box, often exactly on its bounds), the rest anywhere, so they spread
    /// over many leaves and many end in the hot tree's stubs (with no hot leaf at all, every
    /// pixel is anywhere: the 1,000-odd-leaf trees then need more than 32 leaves for most of
    /// the pixels, and the 3-feature tree's leaves are few and busy); counts that are not a
    /// multiple of 16 or 32; every aggregation. Every value as the node-by-node walk gives
    /// it, with the lane on and off, AVX-512 and AVX2, and the lane must have run.
    /// </summary>
    [Theory]
    [InlineData(11, 11, 2048, 0.6, "sum-sigmoid")]
    [InlineData(11, 11, 1000, 0.9, "sum")]
    [InlineData(9, 4, 257, 0.5, "average")]
    [InlineData(12, 17, 4099, 0.45, "sum-sigmoid")]
    [InlineData(11, 11, 2048, 1.0, "average")]
    [InlineData(11, 11, 2048, 0.0, "sum")]
    [InlineData(10, 3, 2048, 0.0, "sum-sigmoid")]
    public void ExpressLaneEqualsNodeByNode(int depth, int features, int n, double hotShare, string aggregation)
    {
        var rng = new Random(depth * 1000 + n);
        var ens = EnsembleReader.Read(RandomForest(rng, 1, depth, features, aggregation), features);
        var bounds = PathBox(ens, rng, features);
        var stride = n + 5;
        var planes = new float[features * stride];
        var pixelMajor = new float[n * features];
        for (var i = 0; i < n; i++)
        {
            var hot = rng.NextDouble() < hotShare;
            for (var f = 0; f < features; f++)
            {
                float v;
                if (hot)
                {
                    // Inside the box: a bound itself (not x > high is inclusive) or a value between.
                    var (low, high) = bounds[f];
                    var lo = float.IsNegativeInfinity(low) ? -1f : low;
                    var hi = float.IsPositiveInfinity(high) ? 2f : high;
                    v = rng.Next(16) switch
                    {
                        0 when !float.IsPositiveInfinity(high) => high,
                        1 when !float.IsNegativeInfinity(low) => low, // just outside: x > low fails
                        _ => MathF.Round(lo + ((float)rng.NextDouble() * (hi - lo)), 2),
                    };
                }
                else
                {
                    v = MathF.Round((float)rng.NextDouble(), 2);
                }

                planes[(f * stride) + i] = v;
                pixelMajor[(i * features) + f] = v;
            }
        }

        var expected = new float[n];
        ens.PredictBlock(pixelMajor, n, expected);
        var actual = new float[n];
        foreach (var (express, avx512) in new[] { (true, true), (false, true), (true, false), (true, true) })
        {
            // Off, the AVX2 express lane runs where AVX-512 would (the same values).
            (LevelForest.Express, LevelForest.UseAvx512) = (express, avx512);
            try
            {
                var before = LevelForest.ExpressCallsOnThisThread;
                Array.Fill(actual, float.NaN);
                ens.PredictPlanes(planes, stride, n, actual);
                Assert.Equal(expected, actual);
                if (express && System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                {
                    Assert.Equal(before + 1, LevelForest.ExpressCallsOnThisThread);
                }
            }
            finally
            {
                (LevelForest.Express, LevelForest.UseAvx512) = (true, true);
            }
        }
    }

    /// <summary>
    /// A deep, thin tree (300 splits in a chain, a leaf beside each): the subtrees under its
    /// splits would hold about 150 nodes per node of the tree, more than the express lane
    /// keeps, so it takes the plain walk. Every value as the node-by-node walk gives it.
    /// </summary>
    [Fact]
    public void DeepThinTreeTakesThePlainWalk()
    {
        const int splits = 300, features = 3, n = 2048;
        var rng = new Random(7);
        var nodes = new TreeNode[splits];
        var leaves = new float[splits + 1];
        for (var k = 0; k < splits; k++)
        {
            // Left is leaf k; right goes on down the chain, to the last leaf at its end.
            nodes[k] = new TreeNode(k % features, (k + 1f) / (splits + 1), ~k, k + 1 < splits ? k + 1 : ~splits);
            leaves[k] = MathF.Round((float)rng.NextDouble(), 3);
        }

        leaves[splits] = 0.5f;
        var ens = new TreeEnsemble("chain", features, nodes, new bool[splits], leaves, [0], Aggregation.Sum, 0);

        // Mostly high values, so many pixels go far down the chain.
        AssertPlainWalk(ens, n, (_, _) => MathF.Round(1 - ((float)rng.NextDouble() * (float)rng.NextDouble()), 3));
    }

    /// <summary>
    /// A complete tree 16 deep (65,535 splits) with most pixels alike: its subtrees would
    /// hold about 1.9 million nodes, more than the express lane keeps in all, so it takes the
    /// plain walk. Every value as the node-by-node walk gives it.
    /// </summary>
    [Fact]
    public void HugeTreeTakesThePlainWalk()
    {
        const int depth = 16, features = 4, n = 512;
        var splits = (1 << depth) - 1;
        var rng = new Random(16);
        var nodes = new TreeNode[splits];
        var leaves = new float[splits + 1];
        for (var k = 0; k < splits; k++)
        {
            // Heap order: children of k at 2k+1 and 2k+2, leaves past the last split.
            int Child(int c) => c < splits ? c : ~(c - splits);
            nodes[k] = new TreeNode(rng.Next(features), MathF.Round((float)rng.NextDouble(), 2), Child((2 * k) + 1), Child((2 * k) + 2));
        }

        for (var l = 0; l <= splits; l++)
        {
            leaves[l] = MathF.Round((float)rng.NextDouble(), 3);
        }

        var ens = new TreeEnsemble("complete", features, nodes, new bool[splits], leaves, [0], Aggregation.Sum, 0);

        // Four pixels in five alike, so a hot tree would pay (its path 16 splits down).
        var common = Enumerable.Range(0, features).Select(_ => MathF.Round((float)rng.NextDouble(), 2)).ToArray();
        AssertPlainWalk(ens, n, (i, f) => i % 5 > 0 ? common[f] : MathF.Round((float)rng.NextDouble(), 2));
    }

    /// <summary>
    /// Predicts <paramref name="n"/> pixels (feature f of pixel i: <paramref name="value"/>(i, f))
    /// as the node-by-node walk does, without the express lane.
    /// </summary>
    private static void AssertPlainWalk(TreeEnsemble ens, int n, Func<int, int, float> value)
    {
        var features = ens.FeatureCount;
        var planes = new float[features * n];
        var pixelMajor = new float[n * features];
        for (var i = 0; i < n; i++)
        {
            for (var f = 0; f < features; f++)
            {
                planes[(f * n) + i] = pixelMajor[(i * features) + f] = value(i, f);
            }
        }

        var expected = new float[n];
        ens.PredictBlock(pixelMajor, n, expected);
        var actual = new float[n];
        var before = LevelForest.ExpressCallsOnThisThread;
        ens.PredictPlanes(planes, n, n, actual);
        Assert.Equal(expected, actual);
        Assert.Equal(before, LevelForest.ExpressCallsOnThisThread);
    }

    /// <summary>A tree that is a single leaf (a model trained on one class) gives its value everywhere.</summary>
    [Fact]
    public void SingleLeafTreeGivesItsValue()
    {
        var ens = new TreeEnsemble("leaf", 2, [], [], [0.25f], [~0], Aggregation.Sum, 0);
        var actual = new float[300];
        ens.PredictPlanes(new float[2 * 300], 300, 300, actual);
        Assert.All(actual, v => Assert.Equal(0.25f, v));
    }

    /// <summary>The bounds (low, high] per feature of a random leaf's path (every leaf at least depth 3 deep).</summary>
    private static (float Low, float High)[] PathBox(TreeEnsemble ens, Random rng, int features)
    {
        var box = Enumerable.Repeat((float.NegativeInfinity, float.PositiveInfinity), features).ToArray();
        var node = ens.Roots[0];
        while (node >= 0)
        {
            var split = ens.Nodes[node];
            var (low, high) = box[split.Feature];
            if (rng.Next(2) == 0 && split.Threshold > low)
            {
                box[split.Feature] = (low, MathF.Min(high, split.Threshold));
                node = split.Left;
            }
            else if (split.Threshold < high)
            {
                box[split.Feature] = (MathF.Max(low, split.Threshold), high);
                node = split.Right;
            }
            else
            {
                box[split.Feature] = (low, MathF.Min(high, split.Threshold));
                node = split.Left;
            }
        }

        return box;
    }

    /// <summary>A forest in the engine's own "trees" format: random splits, leaves from depth 3 on.</summary>
    private static JsonElement RandomForest(Random rng, int trees, int depth, int features, string aggregation = "sum-sigmoid")
    {
        var list = new List<object>();
        for (var t = 0; t < trees; t++)
        {
            var feature = new List<int>();
            var threshold = new List<float>();
            var left = new List<int>();
            var right = new List<int>();
            var leaves = new List<float>();
            Grow(0);
            list.Add(new
            {
                feature,
                threshold,
                left,
                right,
                default_left = feature.Select(_ => true).ToList(),
                leaf_value = leaves,
            });

            // Returns the child reference: node index, or ~leaf.
            int Grow(int level)
            {
                if (level == depth || (level >= 3 && rng.Next(6) == 0))
                {
                    leaves.Add(MathF.Round((float)(rng.NextDouble() - 0.5), 3));
                    return ~(leaves.Count - 1);
                }

                var self = feature.Count;
                feature.Add(rng.Next(features));
                threshold.Add(MathF.Round((float)rng.NextDouble(), 2));
                left.Add(0);
                right.Add(0);
                left[self] = Grow(level + 1);
                right[self] = Grow(level + 1);
                return self;
            }
        }

        var json = JsonSerializer.Serialize(new { kind = "trees", aggregation, base_margin = 0.1, trees = list });
        return JsonDocument.Parse(json).RootElement.Clone();
    }
}
