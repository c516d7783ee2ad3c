using BenchmarkDotNet.Attributes;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Bench.Kernels;

/// <summary>
/// Decoding one chunk of the clear scene (pixel-interleaved float32, 10 bands) into band
/// planes: pixel by pixel (the scalar twin) against the vector path (sixteen records at a
/// time transposed out of four-band windows with AVX-512, eight at a time with AVX2), all
/// bands and only the six the fast model reads, on planes a power of two apart and one line
/// further (<see cref="Pad"/>). All give the same planes (checked in setup).
/// </summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Decode")]
public class DecoderBenchmarks
{
    private const ulong FastBands = 0b1100001111; // B02 B03 B04 B05 B11 B12
    private readonly float[] _planes = new float[10 * (Fixtures.Pixels + 64)];

    /// <summary>Floats between one plane's end and the next's start (the classifier leaves a line, 16).</summary>
    [Params(0, 16)]
    public int Pad { get; set; }
    private long _first;

    [GlobalSetup]
    public void Setup()
    {
        _first = 150L * Fixtures.ClearScene.Width;
        var expected = new float[_planes.Length];
        var keep = Pad; Pad = 0;
        PixelDecoder.UseVectors = false;
        Decode(ulong.MaxValue, expected);
        PixelDecoder.UseVectors = true;
        Decode(ulong.MaxValue, _planes);
        if (!expected.AsSpan().SequenceEqual(_planes))
        {
            throw new InvalidOperationException("vectorised decode disagrees with the scalar twin");
        }

        Pad = keep;
    }

    [Benchmark(Baseline = true)]
    public void Scalar()
    {
        PixelDecoder.UseVectors = false;
        Decode(ulong.MaxValue, _planes);
        PixelDecoder.UseVectors = true;
    }

    [Benchmark]
    public void Vectorised() => Decode(ulong.MaxValue, _planes);

    [Benchmark]
    public void VectorisedFastBands() => Decode(FastBands, _planes);

    private void Decode(ulong bands, float[] planes) =>
        PixelDecoder.Decode(Fixtures.ClearScene, Scaling.Identity, _first, Fixtures.Pixels, planes, Fixtures.Pixels + Pad, propagateNoData: true, bands);
}
