using S2CloudMask.Engine.Features;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Train.Data;

/// <summary>
/// Feature values of every pixel of a scene, computed by the engine's own feature program
/// (so training sees exactly the numbers inference will): plane f at <c>[f * Pixels ..]</c>.
/// </summary>
public sealed class FeatureTable
{
    private const int Chunk = 4096;

    private FeatureTable(float[] planes, int features, int pixels)
    {
        Planes = planes;
        FeatureCount = features;
        Pixels = pixels;
    }

    public float[] Planes { get; }

    public int FeatureCount { get; }

    public int Pixels { get; }

    public float this[int feature, int pixel] => Planes[((long)feature * Pixels) + pixel];

    /// <summary>True when every feature of the pixel is a finite number (the model can score it).</summary>
    public bool IsFinite(int pixel)
    {
        for (var f = 0; f < FeatureCount; f++)
        {
            if (!float.IsFinite(this[f, pixel]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The feature vector of one pixel.</summary>
    public void Row(int pixel, Span<float> dest)
    {
        for (var f = 0; f < FeatureCount; f++)
        {
            dest[f] = this[f, pixel];
        }
    }

    public static FeatureTable Compute(FeatureProgram program, Scene scene)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(scene);
        if (program.UsesReference && scene.Reference is null)
        {
            throw new InvalidOperationException($"{scene.Name} has no reference image for the spectral-temporal features");
        }

        var n = scene.PixelCount;
        var bands = program.Bands.Count;
        var nf = program.FeatureCount;
        var planes = new float[(long)nf * n];
        var obs = new float[bands * Chunk];
        var refPlanes = program.UsesReference ? new float[bands * Chunk] : [];
        var features = new float[nf * Chunk];
        var scratch = new float[Math.Max(1, program.ScratchLength(Chunk))];
        for (var first = 0; first < n; first += Chunk)
        {
            var count = Math.Min(Chunk, n - first);
            PixelDecoder.Decode(scene.Image, scene.Scaling, first, count, obs, Chunk);
            if (program.UsesReference)
            {
                PixelDecoder.Decode(scene.Reference!, scene.ReferenceScaling, first, count, refPlanes, Chunk);
            }

            program.Evaluate(obs, refPlanes, Chunk, count, features, scratch);
            for (var f = 0; f < nf; f++)
            {
                features.AsSpan(f * Chunk, count).CopyTo(planes.AsSpan((int)(((long)f * n) + first), count));
            }
        }

        return new FeatureTable(planes, nf, n);
    }
}
