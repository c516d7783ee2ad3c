using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Bench.Kernels;

/// <summary>
/// Decoding one chunk of the clear scene (pixel-interleaved float32, 10 bands) into band
/// planes: pixel by pixel (the scalar twin) against the vector path (sixteen records at a
/// time transposed out of four-band windows with AVX-512, eight at a time with AVX2), all
/// bands and only the six the fast model reads, on planes a power of two apart and one line
/// further (<see cref="Pad"/>). All give the same planes (checked in setup). The same pixels
/// as uint16 DN records, by gathers and by the 16-bit records path, and as uint16 band planes,
/// sixteen pixels a step and a pass per band (checked in the engine's tests).
/// </summary>
[Config(typeof(KernelConfig))]
[BenchmarkCategory("Decode")]
public class DecoderBenchmarks
{
    private const ulong FastBands = 0b1100001111; // B02 B03 B04 B05 B11 B12
    private readonly float[] _planes = new float[10 * (Fixtures.Pixels + 64)];
    private long _first;
    private BandImage _dn = null!;
    private BandImage _dnPlanes = null!;
    private Scaling _dnScaling;

    /// <summary>Floats between one plane's end and the next's start (the classifier leaves a line, 16).</summary>
    [Params(0, 16)]
    public int Pad { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _first = 150L * Fixtures.ClearScene.Width;
        var expected = new float[_planes.Length];
        PixelDecoder.UseVectors = false;
        Decode(ulong.MaxValue, expected);
        PixelDecoder.UseVectors = true;
        Decode(ulong.MaxValue, _planes);
        if (!expected.AsSpan().SequenceEqual(_planes))
        {
            throw new InvalidOperationException("vectorised decode disagrees with the scalar twin");
        }

        // The same pixel records as DN (uint16 reflectance x 10000, as Sentinel-2 products store them).
        var scene = Fixtures.ClearScene;
        var dn = MemoryMarshal.Cast<byte, float>(scene.Data)
            .ToArray()
            .Select(v => (ushort)Math.Clamp(MathF.Round(v * 10000), 1, 65535))
            .ToArray();
        _dn = BandImage.Interleaved(MemoryMarshal.AsBytes(dn.AsSpan()).ToArray(), ElementType.UInt16, scene.Height, scene.Width, 10);
        var (pixels, planar) = (scene.Height * scene.Width, new ushort[dn.Length]);
        for (var i = 0; i < dn.Length; i++)
        {
            planar[(i % 10 * pixels) + (i / 10)] = dn[i];
        }

        _dnPlanes = BandImage.Planar(MemoryMarshal.AsBytes(planar.AsSpan()).ToArray(), ElementType.UInt16, 10, scene.Height, scene.Width);
        _dnScaling = Scaling.Resolve(ElementType.UInt16, noData: 0);
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

    /// <summary>uint16 DN records (scaled by 1e-4, nodata 0), eight-lane gathers a band.</summary>
    [Benchmark]
    public void DnGathered()
    {
        PixelDecoder.UseRecords16 = false;
        DecodeDn();
        PixelDecoder.UseRecords16 = true;
    }

    /// <summary>uint16 DN records transposed out of eight-band windows.</summary>
    [Benchmark]
    public void DnRecords() => DecodeDn();

    /// <summary>uint16 DN band planes (GDAL's reads), the wanted bands of sixteen pixels a step.</summary>
    [Benchmark]
    public void DnPlanes() => PixelDecoder.Decode(_dnPlanes, _dnScaling, _first, Fixtures.Pixels, _planes, Fixtures.Pixels + Pad, propagateNoData: true, FastBands | 1);

    /// <summary>The same planes a pass per band and step (conversion, nodata, offset, divisor), then the nodata spread: the path without vectors.</summary>
    [Benchmark]
    public void DnPlanesByPasses()
    {
        PixelDecoder.UseVectors = false;
        DnPlanes();
        PixelDecoder.UseVectors = true;
    }

    private void DecodeDn() =>
        PixelDecoder.Decode(_dn, _dnScaling, _first, Fixtures.Pixels, _planes, Fixtures.Pixels + Pad, propagateNoData: true, ulong.MaxValue);

    private void Decode(ulong bands, float[] planes) =>
        PixelDecoder.Decode(Fixtures.ClearScene, Scaling.Identity, _first, Fixtures.Pixels, planes, Fixtures.Pixels + Pad, propagateNoData: true, bands);
}
