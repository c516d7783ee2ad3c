using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using S2CloudMask.Engine.Features;

namespace S2CloudMask.Bench.Kernels;

/// <summary>
/// The natural logarithm of a chunk's B12 plane (reflectances of the clear scene), eight
/// floats a vector: <see cref="InlineLog"/>, which the JIT inlines into the loop, against
/// the library's <c>Vector256.Log</c> it gives bit for bit (a call per vector), and against
/// <c>MathF.Log</c> one float at a time.
/// </summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Log")]
public class LogBenchmarks
{
    private const int N = Fixtures.Pixels;
    private float[] _x = [];
    private readonly float[] _dest = new float[N];

    [GlobalSetup]
    public void Setup()
    {
        _x = Fixtures.Planes(100).AsSpan(9 * N, N).ToArray();
        if (InlineLog.IsSupported)
        {
            Library();
            var library = _dest.ToArray();
            Inline();
            if (!library.AsSpan().SequenceEqual(_dest))
            {
                throw new InvalidOperationException("InlineLog differs from Vector256.Log");
            }
        }
    }

    [Benchmark(Baseline = true)]
    public void Scalar()
    {
        for (var i = 0; i < N; i++)
        {
            _dest[i] = MathF.Log(_x[i]);
        }
    }

    [Benchmark]
    public void Library()
    {
        for (var i = 0; i < N; i += Vector256<float>.Count)
        {
            Vector256.Log(Vector256.LoadUnsafe(ref _x[i])).StoreUnsafe(ref _dest[i]);
        }
    }

    [Benchmark]
    public void Inline()
    {
        for (var i = 0; i < N; i += Vector256<float>.Count)
        {
            InlineLog.Log(Vector256.LoadUnsafe(ref _x[i])).StoreUnsafe(ref _dest[i]);
        }
    }
}
