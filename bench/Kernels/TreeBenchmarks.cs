using BenchmarkDotNet.Attributes;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Bench.Kernels;

/// <summary>
/// Tree evaluation on one chunk of clear-scene pixels: the node-by-node walk of
/// <see cref="TreeEnsemble.PredictBlock"/> (pixel-major features; the path NaN blocks take)
/// against the level-stepping evaluator on feature planes: its scalar twin, AVX2 gathers and
/// AVX-512 register tables; for ensembles sixteen trees per vector, one pixel at a time
/// (<see cref="LaneForest"/>); for dense trees up to 9 deep 64 pixels per vector through
/// byte permutes (<see cref="PermuteForest"/>), or 32 through byte shuffles without AVX-512
/// (<see cref="ShuffleForest"/>); for trees of up to 32 leaves (our own built-in
/// <c>ours/spectral</c>) every split at once through leaf masks (<see cref="MaskForest"/>);
/// and the default, a single tree's express lane (its hot tree through leaf masks, only the
/// pixels it leaves in stubs walked). All give identical values (checked in setup).
/// </summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Trees")]
public class TreeBenchmarks
{
    private TreeEnsemble _ensemble = null!;
    private float[] _planes = [];
    private float[] _pixelMajor = [];
    private readonly float[] _dest = new float[Fixtures.Pixels];

    [Params("fast", "spectral", "ours/spectral")]
    public string Model { get; set; } = "fast";

    [GlobalSetup]
    public void Setup()
    {
        var model = ModelFile.Load(SharedData.ModelFile(Model));
        _ensemble = model.Ensemble;
        var nf = model.Features.FeatureCount;
        _planes = new float[nf * Fixtures.Pixels];
        var scratch = new float[Math.Max(1, model.Features.ScratchLength(Fixtures.Pixels))];
        model.Features.Evaluate(Fixtures.Planes(150), default, Fixtures.Pixels, Fixtures.Pixels, _planes, scratch);
        _pixelMajor = new float[nf * Fixtures.Pixels];
        for (var f = 0; f < nf; f++)
        {
            for (var i = 0; i < Fixtures.Pixels; i++)
            {
                _pixelMajor[(i * nf) + f] = _planes[(f * Fixtures.Pixels) + i];
            }
        }

        var expected = new float[Fixtures.Pixels];
        _ensemble.PredictBlock(_pixelMajor, Fixtures.Pixels, expected);
        foreach (var kernel in Enum.GetValues<TreeKernel>())
        {
            foreach (var express in new[] { false, true })
            {
                LevelForest.Kernel = kernel;
                LevelForest.Express = express;
                _ensemble.PredictPlanes(_planes, Fixtures.Pixels, Fixtures.Pixels, _dest);
                if (!expected.AsSpan().SequenceEqual(_dest))
                {
                    throw new InvalidOperationException($"level stepping ({kernel}, express {express}) disagrees with the node-by-node walk");
                }
            }
        }

        LevelForest.Kernel = LevelForest.DefaultKernel;
        LevelForest.Express = true;
    }

    [Benchmark(Baseline = true)]
    public void NodeByNode() => _ensemble.PredictBlock(_pixelMajor, Fixtures.Pixels, _dest);

    [Benchmark]
    public void LevelScalar() => Run(TreeKernel.Scalar);

    [Benchmark]
    public void LevelGather() => Run(TreeKernel.Avx2);

    [Benchmark]
    public void LevelAvx512() => Run(TreeKernel.Avx512);

    /// <summary>Sixteen trees per vector (<see cref="LaneForest"/>); single trees run as <see cref="LevelAvx512"/>.</summary>
    [Benchmark]
    public void TreesInLanes() => Run(TreeKernel.Lanes);

    /// <summary>32 pixels per vector through byte shuffles, AVX2 (<see cref="ShuffleForest"/>); other forests run as <see cref="TreesInLanes"/>.</summary>
    [Benchmark]
    public void Shuffles() => Run(TreeKernel.Shuffles);

    /// <summary>64 pixels per vector, every table in registers (<see cref="PermuteForest"/>); other forests run as <see cref="Shuffles"/>.</summary>
    [Benchmark]
    public void Permutes() => Run(TreeKernel.Permutes);

    /// <summary>Leaf masks (<see cref="MaskForest"/>); forests with bigger trees run as <see cref="Permutes"/>.</summary>
    [Benchmark]
    public void LeafMasks() => Run(TreeKernel.Masks);

    /// <summary>The default: <see cref="LeafMasks"/>, and a single tree's express lane (a hot tree through leaf masks).</summary>
    [Benchmark]
    public void HotTree() => Run(TreeKernel.Masks, express: true);

    private void Run(TreeKernel kernel, bool express = false)
    {
        LevelForest.Kernel = kernel;
        LevelForest.Express = express;
        _ensemble.PredictPlanes(_planes, Fixtures.Pixels, Fixtures.Pixels, _dest);
        LevelForest.Kernel = LevelForest.DefaultKernel;
        LevelForest.Express = true;
    }
}
