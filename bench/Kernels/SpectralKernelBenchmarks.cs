using BenchmarkDotNet.Attributes;
using S2CloudMask.Engine.Features;

namespace S2CloudMask.Bench.Kernels;

/// <summary>braycurtis(obs, ref) over 10 bands: Vector256 lanes against the scalar twin.</summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("BrayCurtis")]
public class BrayCurtisBenchmarks
{
    private float[] _obs = [];
    private float[] _ref = [];
    private readonly float[] _dest = new float[Fixtures.Pixels];

    [GlobalSetup]
    public void Setup()
    {
        _obs = Fixtures.Planes(50);
        _ref = Fixtures.Planes(250);
    }

    [Benchmark(Baseline = true)]
    public void Scalar() => SpectralKernels.BrayCurtisScalar(_obs, _ref, 10, Fixtures.Pixels, _dest);

    [Benchmark]
    public void Vector() => SpectralKernels.BrayCurtis(_obs, _ref, 10, Fixtures.Pixels, _dest);
}

/// <summary>nldr(obs, ref, B02, B04): Vector256 lanes against the scalar twin.</summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Nldr")]
public class NldrBenchmarks
{
    private float[] _obs = [];
    private float[] _ref = [];
    private readonly float[] _dest = new float[Fixtures.Pixels];

    [GlobalSetup]
    public void Setup()
    {
        _obs = Fixtures.Planes(50);
        _ref = Fixtures.Planes(250);
    }

    [Benchmark(Baseline = true)]
    public void Scalar() => SpectralKernels.NldrScalar(Band(_obs, 0), Band(_obs, 2), Band(_ref, 0), Band(_ref, 2), _dest);

    [Benchmark]
    public void Vector() => SpectralKernels.Nldr(Band(_obs, 0), Band(_obs, 2), Band(_ref, 0), Band(_ref, 2), _dest);

    private static ReadOnlySpan<float> Band(float[] planes, int b) => planes.AsSpan(b * Fixtures.Pixels, Fixtures.Pixels);
}
