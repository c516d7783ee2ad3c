using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Features;
using S2CloudMask.Engine.Models;

namespace S2CloudMask.Bench.Kernels;

/// <summary>
/// The spectral model's nine features on one chunk of pixels: the compiled FeatureProgram
/// (its fused kernel: one loop over vectors, each repeated log once), alone and as the
/// classifier runs it (also telling whether any feature is NaN), and through its plane path
/// (one vectorised pass per operator, normalised differences fused), against
/// the same expressions written as a scalar loop, and against a hand-written version that
/// takes each log once. <see cref="ProgramCheckedLibraryLogs"/> is the fused kernel built to
/// call <c>Vector256.Log</c> as it did before <see cref="InlineLog"/> (the same values).
/// </summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Features")]
public class FeatureBenchmarks
{
    private const int N = Fixtures.Pixels;

    /// <summary>Planes laid out as the classifier lays out a chunk's (one cache line more than a power of two apart).</summary>
    private static readonly int S = AlignedFloats.PlaneStride(N);

    // Band planes in the model's band order: B02 B03 B04 B05 B06 B07 B08 B8A B11 B12.
    private const int B02 = 0, B03 = 1, B04 = 2, B05 = 3, B11 = 8, B12 = 9;

    private FeatureProgram _program = null!;
    private FeatureProgram _libraryLogs = null!;
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

        FeatureProgram.UseInlineLog = false;
        try
        {
            _libraryLogs = FeatureProgram.Compile(expected);
            _libraryLogs.Prepare();
        }
        finally
        {
            FeatureProgram.UseInlineLog = true;
        }

        _obs = Fixtures.Planes(100, S);
        _features = new float[_program.FeatureCount * S];
        _scratch = new float[Math.Max(2 * S, _program.ScratchLength(N))];
    }

    [Benchmark(Baseline = true)]
    public void Scalar()
    {
        var o = _obs;
        var f = _features;
        for (var i = 0; i < N; i++)
        {
            float b02 = o[(B02 * S) + i], b03 = o[(B03 * S) + i], b04 = o[(B04 * S) + i], b05 = o[(B05 * S) + i], b11 = o[(B11 * S) + i], b12 = o[(B12 * S) + i];
            f[i] = b04 * MathF.Log(b12);
            f[S + i] = (b04 - b11) / (b04 + b11);
            f[(2 * S) + i] = b05 * MathF.Log(b12);
            f[(3 * S) + i] = (b05 - b11) / (b05 + b11);
            f[(4 * S) + i] = b05 * MathF.Log(b11);
            f[(5 * S) + i] = b04 * MathF.Log(b11);
            f[(6 * S) + i] = b03 * MathF.Log(b12);
            f[(7 * S) + i] = b03 * MathF.Log(b11);
            f[(8 * S) + i] = b02 * MathF.Log(b12);
        }
    }

    [Benchmark]
    public void Program() => _program.Evaluate(_obs, default, S, N, _features, _scratch);

    /// <summary>As the classifier runs it: also telling whether any feature is NaN.</summary>
    [Benchmark]
    public bool ProgramChecked() => _program.EvaluateAndCheck(_obs, default, S, N, _features, _scratch);

    /// <summary>As <see cref="ProgramChecked"/>, the kernel calling the library's logarithm.</summary>
    [Benchmark]
    public bool ProgramCheckedLibraryLogs() => _libraryLogs.EvaluateAndCheck(_obs, default, S, N, _features, _scratch);

    /// <summary>The plane path: one pass over the planes per operation (the default before the fused kernel).</summary>
    [Benchmark]
    public bool ProgramPlanes()
    {
        FeatureProgram.UseFused = false;
        try
        {
            return _program.EvaluateAndCheck(_obs, default, S, N, _features, _scratch);
        }
        finally
        {
            FeatureProgram.UseFused = true;
        }
    }

    [Benchmark]
    public void VectorSharedLogs()
    {
        var o = _obs.AsSpan();
        var f = _features.AsSpan();
        var log11 = _scratch.AsSpan(0, N);
        var log12 = f.Slice(8 * S, N);
        TensorPrimitives.Log(o.Slice(B11 * S, N), log11);
        TensorPrimitives.Log(o.Slice(B12 * S, N), log12);
        TensorPrimitives.Multiply(o.Slice(B04 * S, N), log12, f[..N]);
        NormalisedDifference(o.Slice(B04 * S, N), o.Slice(B11 * S, N), f.Slice(S, N));
        TensorPrimitives.Multiply(o.Slice(B05 * S, N), log12, f.Slice(2 * S, N));
        NormalisedDifference(o.Slice(B05 * S, N), o.Slice(B11 * S, N), f.Slice(3 * S, N));
        TensorPrimitives.Multiply(o.Slice(B05 * S, N), log11, f.Slice(4 * S, N));
        TensorPrimitives.Multiply(o.Slice(B04 * S, N), log11, f.Slice(5 * S, N));
        TensorPrimitives.Multiply(o.Slice(B03 * S, N), log12, f.Slice(6 * S, N));
        TensorPrimitives.Multiply(o.Slice(B03 * S, N), log11, f.Slice(7 * S, N));
        TensorPrimitives.Multiply(o.Slice(B02 * S, N), log12, f.Slice(8 * S, N)); // in place over log12, last
    }

    private void NormalisedDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dest)
    {
        var sum = _scratch.AsSpan(S, N);
        TensorPrimitives.Add(a, b, sum);
        TensorPrimitives.Subtract(a, b, dest);
        TensorPrimitives.Divide(dest, sum, dest);
    }
}
