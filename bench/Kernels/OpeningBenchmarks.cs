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

        Vector();
        var expected = _dest.ToArray();
        Scalar();
        if (!expected.AsSpan().SequenceEqual(_dest))
        {
            throw new InvalidOperationException("the vector opening disagrees with the scalar twin");
        }
    }

    [Benchmark(Baseline = true)]
    public void Scalar() => ScalarOpening<float, GreyOpening.Min, GreyOpening.Max>.Open3x3(_input, Width, Height, _dest, _scalarScratch);

    [Benchmark]
    public void Vector() => GreyOpening.Open3x3(_input, Width, Height, 0, 0, Height, _dest, _scratch);
}

/// <summary>
/// The same opening of mask codes (0, 1 and 255 for nodata, as the mask path opens them;
/// about a third of the pixels 1, one in fifty nodata), 32 to a vector, against the scalar twin.
/// </summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Opening")]
public class OpeningCodesBenchmarks
{
    private const int Height = 410;
    private const int Width = 565;

    private readonly byte[] _input = new byte[Height * Width];
    private readonly byte[] _dest = new byte[Height * Width];
    private readonly byte[] _scratch = new byte[GreyOpening.ScratchLength(Width)];
    private readonly byte[] _scalarScratch = new byte[2 * Width * Height];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < _input.Length; i++)
        {
            var r = random.Next(50);
            _input[i] = r == 0 ? GreyOpening.CodeNodata : r < 17 ? (byte)1 : (byte)0;
        }

        Vector();
        var expected = _dest.ToArray();
        Scalar();
        if (!expected.AsSpan().SequenceEqual(_dest))
        {
            throw new InvalidOperationException("the vector opening of codes disagrees with the scalar twin");
        }
    }

    [Benchmark(Baseline = true)]
    public void Scalar() => ScalarOpening<byte, GreyOpening.Min, GreyOpening.MaxOfCodes>.Open3x3(_input, Width, Height, _dest, _scalarScratch);

    [Benchmark]
    public void Vector() => GreyOpening.Codes(Width, Height, 0, 0, Height, _dest, _scratch).Advance(_input, Height);
}

/// <summary>The 3x3 opening one element at a time: erosion then dilation, rows then columns, with the engine's per-element min and max.</summary>
internal static class ScalarOpening<T, TMin, TMax>
    where T : unmanaged
    where TMin : struct, GreyOpening.IExtreme<T>
    where TMax : struct, GreyOpening.IExtreme<T>
{
    public static void Open3x3(ReadOnlySpan<T> input, int width, int height, Span<T> dest, Span<T> scratch)
    {
        var a = scratch[..(width * height)];
        var b = scratch.Slice(width * height, width * height);
        Pass<TMin>(input, a, width, height, horizontal: true);
        Pass<TMin>(a, b, width, height, horizontal: false);
        Pass<TMax>(b, a, width, height, horizontal: true);
        Pass<TMax>(a, dest, width, height, horizontal: false);
    }

    private static void Pass<TOp>(ReadOnlySpan<T> src, Span<T> dst, int width, int height, bool horizontal)
        where TOp : struct, GreyOpening.IExtreme<T>
    {
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                T p, q, r;
                if (horizontal)
                {
                    var row = y * width;
                    (p, q, r) = (src[row + Math.Max(x - 1, 0)], src[row + x], src[row + Math.Min(x + 1, width - 1)]);
                }
                else
                {
                    (p, q, r) = (src[(Math.Max(y - 1, 0) * width) + x], src[(y * width) + x], src[(Math.Min(y + 1, height - 1) * width) + x]);
                }

                dst[(y * width) + x] = TOp.Apply(TOp.Apply(p, q), r);
            }
        }
    }
}
