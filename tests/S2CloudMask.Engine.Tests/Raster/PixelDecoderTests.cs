using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Engine.Tests.Raster;

public sealed class PixelDecoderTests
{
    [Fact]
    public void IntegerDnIsDividedBy10000WithOffsetApplied()
    {
        // 2 x 1 pixels, 2 bands, interleaved (y, x, band).
        var img = BandImage.Interleaved(Bytes<ushort>([3000, 1500, 2000, 1000]), ElementType.UInt16, 1, 2, 2);
        var planes = new float[4];
        PixelDecoder.Decode(img, Scaling.Resolve(ElementType.UInt16, offset: Scaling.Baseline0400Offset), 0, 2, planes, 2);
        Assert.Equal([0.2f, 0.1f, 0.05f, 0f], planes);
    }

    [Fact]
    public void NoDataInOneBandMakesWholePixelNaN()
    {
        var img = BandImage.Interleaved(Bytes<ushort>([0, 1500, 2000, 1000]), ElementType.UInt16, 1, 2, 2);
        var planes = new float[4];
        PixelDecoder.Decode(img, Scaling.Resolve(ElementType.UInt16), 0, 2, planes, 2);
        Assert.True(float.IsNaN(planes[0]));
        Assert.True(float.IsNaN(planes[2]));
        Assert.Equal(0.2f, planes[1]);
        Assert.Equal(0.1f, planes[3]);
    }

    [Fact]
    public void FloatNaNBandMakesWholePixelNaNAndFloatsAreTakenAsReflectance()
    {
        var img = BandImage.Interleaved(Bytes<float>([0.1f, float.NaN, 0.3f, 0.4f]), ElementType.Float32, 1, 2, 2);
        var planes = new float[4];
        PixelDecoder.Decode(img, Scaling.Resolve(ElementType.Float32), 0, 2, planes, 2);
        Assert.True(float.IsNaN(planes[0]) && float.IsNaN(planes[2]));
        Assert.Equal([0.3f, 0.4f], new[] { planes[1], planes[3] });
    }

    [Fact]
    public void PlanarAndInterleavedLayoutsDecodeAlike()
    {
        // 2 x 3 image, 2 bands.
        float[] interleaved = [1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60];
        float[] planar = [1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60];
        var a = new float[12];
        var b = new float[12];
        PixelDecoder.Decode(BandImage.Interleaved(Bytes(interleaved), ElementType.Float32, 2, 3, 2), Scaling.Identity, 0, 6, a, 6);
        PixelDecoder.Decode(BandImage.Planar(Bytes(planar), ElementType.Float32, 2, 2, 3), Scaling.Identity, 0, 6, b, 6);
        Assert.Equal(planar, a);
        Assert.Equal(planar, b);
    }

    [Fact]
    public void StackDateViewReadsThatDate()
    {
        // (y=1, x=2, band=2, time=3): value = 100*x + 10*band + t.
        var values = new float[12];
        for (var x = 0; x < 2; x++)
        {
            for (var b = 0; b < 2; b++)
            {
                for (var t = 0; t < 3; t++)
                {
                    values[(((x * 2) + b) * 3) + t] = (100 * x) + (10 * b) + t;
                }
            }
        }

        var stack = new BandStack(NdArray.Create(values, 1, 2, 2, 3));
        var planes = new float[4];
        PixelDecoder.Decode(stack.Date(2), Scaling.Identity, 0, 2, planes, 2);
        Assert.Equal([2f, 102f, 12f, 112f], planes);
    }

    [Fact]
    public void NonPositiveScaleIsRejected()
    {
        var e = Assert.Throws<InvalidInputException>(() => Scaling.Resolve(ElementType.UInt16, scale: 0));
        Assert.Equal("bad-scaling", e.Code);
    }

    private static byte[] Bytes<T>(T[] values)
        where T : unmanaged => NdArray.Create(values, values.Length).Data;
}
