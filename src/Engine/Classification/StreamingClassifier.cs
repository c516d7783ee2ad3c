using System.Buffers;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Morphology;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Engine.Classification;

/// <summary>An image read a block of rows at a time: for rasters too large to hold in memory.</summary>
public interface IBandRowSource
{
    int Height { get; }

    int Width { get; }

    int Bands { get; }

    /// <summary>Rows [<paramref name="y"/>, y + <paramref name="rows"/>) as an image of that many rows.</summary>
    BandImage ReadRows(int y, int rows);
}

/// <summary>Rows of an image already in memory, as views without copying.</summary>
public sealed class BandImageRows(BandImage image) : IBandRowSource
{
    public int Height => image.Height;

    public int Width => image.Width;

    public int Bands => image.Bands;

    public BandImage ReadRows(int y, int rows) =>
        new(image.Data, image.Type, rows, image.Width, image.Bands, image.Offset + (y * image.StrideY), image.StrideY, image.StrideX, image.StrideBand);
}

/// <summary>
/// Classifies an image of any height in blocks of rows, so memory stays bounded by the block
/// size: each block is read with the rows the opening needs around it (its halo), classified
/// by <see cref="CloudClassifier"/> as a small image, and only its own rows are kept, which
/// gives exactly the probabilities of classifying the whole image at once.
/// </summary>
public static class StreamingClassifier
{
    /// <summary>
    /// Calls <paramref name="sink"/> with (first row, probabilities of rows first .. first +
    /// n) for consecutive blocks covering the image, top to bottom.
    /// </summary>
    public static void Run(
        CloudModel model,
        IBandRowSource obs,
        Scaling scaling,
        IBandRowSource? reference,
        int blockRows,
        Action<int, ReadOnlyMemory<float>> sink,
        ClassifyOptions? options = null) =>
        Blocks<float>(
            model,
            obs,
            reference,
            blockRows,
            (image, refImage, buffer) => CloudClassifier.Probability(model, image, scaling, refImage, Scaling.Identity, buffer, options),
            sink,
            options);

    /// <summary>
    /// <see cref="Run(CloudModel, IBandRowSource, Scaling, IBandRowSource?, int, Action{int, ReadOnlyMemory{float}}, ClassifyOptions?)"/>
    /// for mask codes at <paramref name="threshold"/>
    /// (<see cref="CloudClassifier.Mask(CloudModel, BandImage, Scaling, BandImage?, Scaling, float, byte[], ClassifyOptions?)"/>).
    /// </summary>
    public static void RunMask(
        CloudModel model,
        IBandRowSource obs,
        Scaling scaling,
        IBandRowSource? reference,
        int blockRows,
        float threshold,
        Action<int, ReadOnlyMemory<byte>> sink,
        ClassifyOptions? options = null) =>
        Blocks<byte>(
            model,
            obs,
            reference,
            blockRows,
            (image, refImage, buffer) => CloudClassifier.Mask(model, image, scaling, refImage, Scaling.Identity, threshold, buffer, options),
            sink,
            options);

    /// <summary>The blocks of rows, each read with its halo, classified by <paramref name="classify"/> into a pooled buffer, its own rows passed on.</summary>
    private static void Blocks<T>(
        CloudModel model,
        IBandRowSource obs,
        IBandRowSource? reference,
        int blockRows,
        Action<BandImage, BandImage?, T[]> classify,
        Action<int, ReadOnlyMemory<T>> sink,
        ClassifyOptions? options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(obs);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockRows);
        if (reference is not null && (reference.Height != obs.Height || reference.Width != obs.Width))
        {
            throw new InvalidInputException("reference-mismatch", $"the reference image is {reference.Height} x {reference.Width} but the image is {obs.Height} x {obs.Width}");
        }

        var halo = model.Opening > 0 ? GreyOpening.Halo : 0;
        var width = obs.Width;
        var buffer = ArrayPool<T>.Shared.Rent((blockRows + (2 * halo)) * width);
        try
        {
            for (var start = 0; start < obs.Height; start += blockRows)
            {
                options?.CancellationToken.ThrowIfCancellationRequested();
                var end = Math.Min(obs.Height, start + blockRows);
                var readStart = Math.Max(0, start - halo);
                var readEnd = Math.Min(obs.Height, end + halo);
                var image = obs.ReadRows(readStart, readEnd - readStart);
                var refImage = model.NeedsReference ? reference?.ReadRows(readStart, readEnd - readStart) : null;
                classify(image, refImage, buffer);
                sink(start, buffer.AsMemory((start - readStart) * width, (end - start) * width));
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(buffer);
        }
    }
}
