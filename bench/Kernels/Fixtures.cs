using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Bench.Kernels;

/// <summary>Inputs for the kernel benchmarks: real pixels of the clear scene as band planes.</summary>
internal static class Fixtures
{
    /// <summary>The classifier's chunk: the block of pixels every per-chunk kernel sees.</summary>
    public const int Pixels = 2048;

    private static readonly Lazy<BandImage> Clear = new(() => BandImage.FromArray(Npy.Read(SharedData.DataFile(SharedData.ClearScene))));

    public static BandImage ClearScene => Clear.Value;

    /// <summary><see cref="Pixels"/> pixels from <paramref name="firstRow"/> on, as planes: band b at <c>b * Pixels</c>.</summary>
    public static float[] Planes(int firstRow)
    {
        var image = Clear.Value;
        var planes = new float[image.Bands * Pixels];
        PixelDecoder.Decode(image, Scaling.Identity, (long)firstRow * image.Width, Pixels, planes, Pixels);
        return planes;
    }
}
