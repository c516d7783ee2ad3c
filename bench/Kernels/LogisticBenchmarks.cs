using BenchmarkDotNet.Attributes;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Bench.Kernels;

/// <summary>
/// The logistic transform of summed margins (XGBoost's binary:logistic): the vector form
/// against its scalar twin, and against the <c>1 / (1 + MathF.Exp(-x))</c> it replaced.
/// Margins spread over [-10, 10], copied in first on every path.
/// </summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Logistic")]
public class LogisticBenchmarks
{
    private readonly float[] _margins = new float[Fixtures.Pixels];
    private readonly float[] _dest = new float[Fixtures.Pixels];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(6);
        for (var i = 0; i < _margins.Length; i++)
        {
            _margins[i] = (float)((rng.NextDouble() * 20) - 10);
        }
    }

    [Benchmark(Baseline = true)]
    public void Scalar()
    {
        for (var i = 0; i < _margins.Length; i++)
        {
            _dest[i] = Logistic.Of(_margins[i]);
        }
    }

    [Benchmark]
    public void MathFExp()
    {
        for (var i = 0; i < _margins.Length; i++)
        {
            _dest[i] = 1f / (1f + MathF.Exp(-_margins[i]));
        }
    }

    [Benchmark]
    public void Vector()
    {
        _margins.CopyTo(_dest, 0);
        Logistic.Apply(_dest);
    }
}
