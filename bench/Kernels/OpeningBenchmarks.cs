using BenchmarkDotNet.Attributes;
using S2CloudMask.Engine.Morphology;

namespace S2CloudMask.Bench.Kernels;

/// <summary>
/// 3x3 grey opening of a clear-scene-sized image (410 x 565): the engine's streamed separable
/// vector min/max (one pass per row and step) against a scalar separable twin written here
/// (the engine keeps none), with the same edge-repeating border and the engine's per-element
/// min and max; the two are checked against each other at setup.
/// </summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Opening")]
public abstract class OpeningKernel<T, TMin, TMax>
    where T : unmanaged, IEquatable<T>
    where TMin : struct, GreyOpening.IExtreme<T>
    where TMax : struct, GreyOpening.IExtreme<T>
{
    protected const int Height = 410;
    protected const int Width = 565;

    protected T[] Input { get; } = new T[Height * Width];

    protected T[] Dest { get; } = new T[Height * Width];

    protected T[] Scratch { get; } = new T[GreyOpening.ScratchLength(Width)];

    private readonly T[] _scalarScratch = new T[2 * Width * Height];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < Input.Length; i++)
        {
            Input[i] = Draw(random);
        }

        Vector();
        var expected = Dest.ToArray();
        Scalar();
        if (!expected.AsSpan().SequenceEqual(Dest))
        {
            throw new InvalidOperationException($"the vector opening disagrees with the scalar twin ({GetType().Name})");
        }
    }

    [Benchmark(Baseline = true)]
    public void Scalar() => ScalarOpening<T, TMin, TMax>.Open3x3(Input, Width, Height, Dest, _scalarScratch);

    [Benchmark]
    public void Vector() => OpenVector();

    /// <summary>The engine's opening of <see cref="Input"/> into <see cref="Dest"/>.</summary>
    protected abstract void OpenVector();

    /// <summary>One input pixel.</summary>
    protected abstract T Draw(Random random);
}

/// <summary>Probabilities uniform in [0, 1).</summary>
public class OpeningBenchmarks : OpeningKernel<float, GreyOpening.Min, GreyOpening.Max>
{
    protected override void OpenVector() => GreyOpening.Open3x3(Input, Width, Height, 0, 0, Height, Dest, Scratch);

    protected override float Draw(Random random) => random.NextSingle();
}

/// <summary>
/// Mask codes as the mask path opens them, 32 to a vector: 0, 1 (about a third of the
/// pixels) and 255 for nodata (one in fifty).
/// </summary>
public class OpeningCodesBenchmarks : OpeningKernel<byte, GreyOpening.Min, GreyOpening.MaxOfCodes>
{
    protected override void OpenVector() => GreyOpening.Codes(Width, Height, 0, 0, Height, Dest, Scratch).Advance(Input, Height);

    protected override byte Draw(Random random) => random.Next(50) switch
    {
        0 => GreyOpening.CodeNodata,
        < 17 => 1,
        _ => 0,
    };
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
