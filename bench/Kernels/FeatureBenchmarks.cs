using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using S2CloudMask.Engine.Features;
using S2CloudMask.Engine.Models;

namespace S2CloudMask.Bench.Kernels;

/// <summary>
/// The spectral model's nine features on one chunk of pixels: the compiled FeatureProgram
/// (one vectorised pass per operator, each repeated log once, normalised differences fused),
/// alone and as the classifier runs it (also telling whether any feature is NaN), against
/// the same expressions written as a scalar loop, and against a hand-written version that
/// takes each log once.
/// </summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Features")]
public class FeatureBenchmarks
{
    private const int N = Fixtures.Pixels;

    // Band planes in the model's band order: B02 B03 B04 B05 B06 B07 B08 B8A B11 B12.
    private const int B02 = 0, B03 = 1, B04 = 2, B05 = 3, B11 = 8, B12 = 9;

    private FeatureProgram _program = null!;
    private float[] _obs = [];
    private float[] _features = [];
    private float[] _scratch = [];

    [GlobalSetup]
    public void Setup()
    {
        _program = ModelFile.Load(SharedData.ModelFile("spectral")).Features;
        string[] expected = ["B04*log(B12)", "(B04-B11)/(B04+B11)", "B05*log(B12)", "(B05-B11)/(B05+B11)", "B05*log(B11)", "B04*log(B11)", "B03*log(B12)", "B03*log(B11)", "B02*log(B12)"];
        if (!_program.Expressions.SequenceEqual(expected))
        {
            throw new InvalidOperationException("the spectral model's features changed; update the scalar twin in FeatureBenchmarks");
        }

        _obs = Fixtures.Planes(100);
        _features = new float[_program.FeatureCount * N];
        _scratch = new float[Math.Max(2 * N, _program.ScratchLength(N))];
    }

    [Benchmark(Baseline = true)]
    public void Scalar()
    {
        var o = _obs;
        var f = _features;
        for (var i = 0; i < N; i++)
        {
            float b02 = o[(B02 * N) + i], b03 = o[(B03 * N) + i], b04 = o[(B04 * N) + i], b05 = o[(B05 * N) + i], b11 = o[(B11 * N) + i], b12 = o[(B12 * N) + i];
            f[i] = b04 * MathF.Log(b12);
            f[N + i] = (b04 - b11) / (b04 + b11);
            f[(2 * N) + i] = b05 * MathF.Log(b12);
            f[(3 * N) + i] = (b05 - b11) / (b05 + b11);
            f[(4 * N) + i] = b05 * MathF.Log(b11);
            f[(5 * N) + i] = b04 * MathF.Log(b11);
            f[(6 * N) + i] = b03 * MathF.Log(b12);
            f[(7 * N) + i] = b03 * MathF.Log(b11);
            f[(8 * N) + i] = b02 * MathF.Log(b12);
        }
    }

    [Benchmark]
    public void Program() => _program.Evaluate(_obs, default, N, N, _features, _scratch);

    /// <summary>As the classifier runs it: also telling whether any feature is NaN.</summary>
    [Benchmark]
    public bool ProgramChecked() => _program.EvaluateAndCheck(_obs, default, N, N, _features, _scratch);

    [Benchmark]
    public void VectorSharedLogs()
    {
        var o = _obs.AsSpan();
        var f = _features.AsSpan();
        var log11 = _scratch.AsSpan(0, N);
        var log12 = f.Slice(8 * N, N);
        TensorPrimitives.Log(o.Slice(B11 * N, N), log11);
        TensorPrimitives.Log(o.Slice(B12 * N, N), log12);
        TensorPrimitives.Multiply(o.Slice(B04 * N, N), log12, f[..N]);
        NormalisedDifference(o.Slice(B04 * N, N), o.Slice(B11 * N, N), f.Slice(N, N));
        TensorPrimitives.Multiply(o.Slice(B05 * N, N), log12, f.Slice(2 * N, N));
        NormalisedDifference(o.Slice(B05 * N, N), o.Slice(B11 * N, N), f.Slice(3 * N, N));
        TensorPrimitives.Multiply(o.Slice(B05 * N, N), log11, f.Slice(4 * N, N));
        TensorPrimitives.Multiply(o.Slice(B04 * N, N), log11, f.Slice(5 * N, N));
        TensorPrimitives.Multiply(o.Slice(B03 * N, N), log12, f.Slice(6 * N, N));
        TensorPrimitives.Multiply(o.Slice(B03 * N, N), log11, f.Slice(7 * N, N));
        TensorPrimitives.Multiply(o.Slice(B02 * N, N), log12, f.Slice(8 * N, N)); // in place over log12, last
    }

    private void NormalisedDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dest)
    {
        var sum = _scratch.AsSpan(N, N);
        TensorPrimitives.Add(a, b, sum);
        TensorPrimitives.Subtract(a, b, dest);
        TensorPrimitives.Divide(dest, sum, dest);
    }
}
