using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Train.Data;

/// <summary>What a labelled image is used for.</summary>
public enum SceneRole
{
    /// <summary>Its pixels train the model.</summary>
    Train,

    /// <summary>A held-out date of a place seen in training: the validation metrics.</summary>
    Test,

    /// <summary>A place never seen in training: reported on its own (false positives).</summary>
    Check,

    /// <summary>No labels: only agreement with the published models and cloud fractions.</summary>
    Unlabelled,
}

/// <summary>
/// One image of one date with its pixel labels (0 clear, 1 cloud, 2 shadow, 255 ignore) and,
/// where a time series exists, its reference (the geomedian of the same place).
/// </summary>
public sealed record Scene(
    string Name,
    string Place,
    string Date,
    BandImage Image,
    Scaling Scaling,
    byte[]? Labels,
    BandImage? Reference,
    Scaling ReferenceScaling,
    SceneRole Role,
    string ReferenceNote,
    bool ReferenceIsGeomedian)
{
    public const byte Clear = 0;
    public const byte Cloud = 1;
    public const byte Shadow = 2;
    public const byte Ignore = 255;

    public int Height => Image.Height;

    public int Width => Image.Width;

    public int PixelCount => Image.Height * Image.Width;

    /// <summary>Counts of labels 0 (clear), 1 (cloud), 2 (shadow) and 255 (ignored).</summary>
    public (int Clear, int Cloud, int Shadow, int Ignored) LabelCounts()
    {
        int c = 0, k = 0, s = 0, i = 0;
        foreach (var l in Labels ?? [])
        {
            switch (l)
            {
                case Clear: c++; break;
                case Cloud: k++; break;
                case Shadow: s++; break;
                default: i++; break;
            }
        }

        return (c, k, s, i);
    }
}
