using BenchmarkDotNet.Attributes;
using S2CloudMask.Engine.Morphology;

namespace S2CloudMask.Bench.Kernels;

/// <summary>
/// 3x3 grey opening of a clear-scene-sized probability image (410 x 565): the engine's
/// streamed separable vector min/max (one pass per row and step) against a scalar separable
/// twin written here (the engine keeps none), with the same edge-repeating border.
/// </summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Opening")]
public class OpeningBenchmarks
{
    private const int Height = 410;
    private const int Width = 565;

    private readonly float[] _input = new float[Height * Width];
    private readonly float[] _dest = new float[Height * Width];
    private readonly float[] _scratch = new float[GreyOpening.ScratchLength(Width)];
    private readonly float[] _scalarScratch = new float[2 * Width * Height];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < _input.Length; i++)
        {
            _input[i] = random.NextSingle();
        }
    }

    [Benchmark(Baseline = true)]
    public void Scalar() => ScalarOpening.Open3x3(_input, Width, Height, _dest, _scalarScratch);

    [Benchmark]
    public void Vector() => GreyOpening.Open3x3(_input, Width, Height, 0, 0, Height, _dest, _scratch);
}

/// <summary>The 3x3 opening one element at a time: erosion then dilation, rows then columns.</summary>
internal static class ScalarOpening
{
    public static void Open3x3(ReadOnlySpan<float> input, int width, int height, Span<float> dest, Span<float> scratch)
    {
        var a = scratch[..(width * height)];
        var b = scratch.Slice(width * height, width * height);
        Pass(input, a, width, height, horizontal: true, min: true);
        Pass(a, b, width, height, horizontal: false, min: true);
        Pass(b, a, width, height, horizontal: true, min: false);
        Pass(a, dest, width, height, horizontal: false, min: false);
    }

    private static void Pass(ReadOnlySpan<float> src, Span<float> dst, int width, int height, bool horizontal, bool min)
    {
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                float p, q, r;
                if (horizontal)
                {
                    var row = y * width;
                    (p, q, r) = (src[row + Math.Max(x - 1, 0)], src[row + x], src[row + Math.Min(x + 1, width - 1)]);
                }
                else
                {
                    (p, q, r) = (src[(Math.Max(y - 1, 0) * width) + x], src[(y * width) + x], src[(Math.Min(y + 1, height - 1) * width) + x]);
                }

                dst[(y * width) + x] = min ? MathF.Min(MathF.Min(p, q), r) : MathF.Max(MathF.Max(p, q), r);
            }
        }
    }
}
