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
        foreach (var kernel in Enum.GetValues<TreeKernel>())
        {
            LevelForest.Kernel = kernel;
            try
            {
                Array.Fill(actual, float.NaN);
                ens.PredictPlanes(planes, stride, n, actual);
                Assert.Equal(expected, actual);
            }
            finally
            {
                LevelForest.Kernel = TreeKernel.Avx512;
            }
        }
    }

    /// <summary>The published models on the features of real pixels: every kernel, every bit.</summary>
    [SharedTheory]
    [InlineData("fast")]
    [InlineData("spectral")]
    [InlineData("fast-shadow")]
    public void EveryKernelEqualsNodeByNodeOnPublishedModels(string name)
    {
        var model = ModelFile.Load(SharedData.Model(name));
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
        foreach (var kernel in Enum.GetValues<TreeKernel>())
        {
            LevelForest.Kernel = kernel;
            try
            {
                Array.Fill(actual, float.NaN);
                model.Ensemble.PredictPlanes(features, stride, n, actual);
                Assert.Equal(expected, actual);
            }
            finally
            {
                LevelForest.Kernel = TreeKernel.Avx512;
            }
        }
    }

    /// <summary>A forest in the engine's own "trees" format: random splits, leaves from depth 3 on.</summary>
    private static JsonElement RandomForest(Random rng, int trees, int depth, int features)
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

        var json = JsonSerializer.Serialize(new { kind = "trees", aggregation = "sum-sigmoid", base_margin = 0.1, trees = list });
        return JsonDocument.Parse(json).RootElement.Clone();
    }
}
