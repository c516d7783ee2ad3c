using System.Diagnostics;

namespace S2CloudMask.Engine.Classification;

/// <summary>The steps of <see cref="CloudClassifier"/>'s work on a block, as a benchmark times them.</summary>
internal enum ClassifyStage
{
    /// <summary>Band values to reflectance planes (and the nodata marks).</summary>
    Decode,

    /// <summary>The same for the reference image of a spectral-temporal model.</summary>
    DecodeReference,

    Features,

    /// <summary>Finding undefined features and standing in for them.</summary>
    NaNScan,

    Trees,

    /// <summary>The 3x3 opening and putting nodata back.</summary>
    Opening,

    /// <summary>Probabilities to mask codes (<see cref="CloudClassifier.Mask(Models.CloudModel, Raster.BandImage, Raster.Scaling, Raster.BandImage?, Raster.Scaling, float, byte[], ClassifyOptions?)"/> alone).</summary>
    Codes,

    Count,
}

/// <summary>
/// Adds up the time of each <see cref="ClassifyStage"/> when a benchmark sets
/// <see cref="CloudClassifier.Clock"/> (one thread: laps are taken on whichever thread runs a
/// block). Off, the classifier only tests for null.
/// </summary>
internal sealed class StageClock
{
    private long _last;

    public long[] Ticks { get; } = new long[(int)ClassifyStage.Count];

    public void Start() => _last = Stopwatch.GetTimestamp();

    /// <summary>Charges the time since the last lap (or <see cref="Start"/>) to <paramref name="stage"/>.</summary>
    public void Lap(ClassifyStage stage)
    {
        var now = Stopwatch.GetTimestamp();
        Ticks[(int)stage] += now - _last;
        _last = now;
    }

    public double Seconds(ClassifyStage stage) => Ticks[(int)stage] / (double)Stopwatch.Frequency;
}
