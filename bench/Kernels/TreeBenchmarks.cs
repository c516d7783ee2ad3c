using BenchmarkDotNet.Attributes;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Bench.Kernels;

/// <summary>
/// Tree evaluation on one chunk of clear-scene pixels (features pixel-major, as the
/// classifier hands them over): PredictBlock (trees in the outer loop) against Predict
/// called pixel by pixel (all trees for one pixel, then the next).
/// </summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Trees")]
public class TreeBenchmarks
{
    private TreeEnsemble _ensemble = null!;
    private BranchlessForest _branchless = null!;
    private float[] _features = [];
    private readonly float[] _dest = new float[Fixtures.Pixels];

    [Params("fast", "spectral")]
    public string Model { get; set; } = "fast";

    [GlobalSetup]
    public void Setup()
    {
        var model = ModelFile.Load(SharedData.ModelFile(Model));
        _ensemble = model.Ensemble;
        var nf = model.Features.FeatureCount;
        var planes = new float[nf * Fixtures.Pixels];
        var scratch = new float[Math.Max(1, model.Features.ScratchLength(Fixtures.Pixels))];
        model.Features.Evaluate(Fixtures.Planes(150), default, Fixtures.Pixels, Fixtures.Pixels, planes, scratch);
        _features = new float[nf * Fixtures.Pixels];
        for (var f = 0; f < nf; f++)
        {
            for (var i = 0; i < Fixtures.Pixels; i++)
            {
                _features[(i * nf) + f] = planes[(f * Fixtures.Pixels) + i];
            }
        }

        _branchless = new BranchlessForest(_ensemble);
        var expected = new float[Fixtures.Pixels];
        _ensemble.PredictBlock(_features, Fixtures.Pixels, expected);
        _branchless.PredictBlock(_features, Fixtures.Pixels, _dest);
        if (!expected.AsSpan().SequenceEqual(_dest))
        {
            throw new InvalidOperationException("the branchless prototype disagrees with TreeEnsemble.PredictBlock");
        }
    }

    [Benchmark(Baseline = true)]
    public void PerPixel()
    {
        var nf = _ensemble.FeatureCount;
        var x = _features.AsSpan();
        for (var i = 0; i < Fixtures.Pixels; i++)
        {
            _dest[i] = _ensemble.Predict(x.Slice(i * nf, nf));
        }
    }

    [Benchmark]
    public void PredictBlock() => _ensemble.PredictBlock(_features, Fixtures.Pixels, _dest);

    /// <summary>Prototype (bench only): branchless walk, eight pixels interleaved.</summary>
    [Benchmark]
    public void BranchlessX8() => _branchless.PredictBlock(_features, Fixtures.Pixels, _dest);
}
