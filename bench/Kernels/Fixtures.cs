using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Bench.Kernels;

/// <summary>Inputs for the kernel benchmarks: real pixels of the clear scene as band planes.</summary>
internal static class Fixtures
{
    /// <summary>
    /// Pixels per kernel call: 2048, the classifier's chunk until it became 4096 (see
    /// <c>ClassifyOptions.ChunkPixels</c>), kept so the kernels' timings stay comparable with
    /// the earlier ones quoted in the code.
    /// </summary>
    public const int Pixels = 2048;

    private static readonly Lazy<BandImage> Clear = new(() => BandImage.FromArray(Npy.Read(SharedData.DataFile(SharedData.ClearScene))));

    public static BandImage ClearScene => Clear.Value;

    /// <summary><see cref="Pixels"/> pixels from <paramref name="firstRow"/> on, as planes: band b at <c>b * stride</c>.</summary>
    public static float[] Planes(int firstRow, int stride = Pixels)
    {
        var image = Clear.Value;
        var planes = new float[image.Bands * stride];
        PixelDecoder.Decode(image, Scaling.Identity, (long)firstRow * image.Width, Pixels, planes, stride);
        return planes;
    }
}
