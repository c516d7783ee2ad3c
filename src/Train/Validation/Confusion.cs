namespace S2CloudMask.Train.Validation;

/// <summary>Counts of a cloud mask against labels, cloud being the positive class.</summary>
public sealed record Confusion(long TruePositive, long FalsePositive, long TrueNegative, long FalseNegative, long Unscored)
{
    public static Confusion Empty { get; } = new(0, 0, 0, 0, 0);

    public long Total => TruePositive + FalsePositive + TrueNegative + FalseNegative;

    public long LabelledCloud => TruePositive + FalseNegative;

    public long LabelledClear => TrueNegative + FalsePositive;

    public double Accuracy => Ratio(TruePositive + TrueNegative, Total);

    /// <summary>Of the pixels called cloud, the fraction labelled cloud (NaN when none was called cloud).</summary>
    public double CloudPrecision => Ratio(TruePositive, TruePositive + FalsePositive);

    /// <summary>Of the pixels labelled cloud, the fraction called cloud.</summary>
    public double CloudRecall => Ratio(TruePositive, LabelledCloud);

    /// <summary>Of the pixels labelled clear, the fraction called clear.</summary>
    public double Specificity => Ratio(TrueNegative, LabelledClear);

    public double FalsePositiveRate => Ratio(FalsePositive, LabelledClear);

    /// <summary>Mean of recall and specificity; with only one class labelled, that class's rate.</summary>
    public double BalancedAccuracy => (LabelledCloud, LabelledClear) switch
    {
        (0, 0) => double.NaN,
        (0, _) => Specificity,
        (_, 0) => CloudRecall,
        _ => (CloudRecall + Specificity) / 2,
    };

    public static Confusion operator +(Confusion a, Confusion b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return new(a.TruePositive + b.TruePositive, a.FalsePositive + b.FalsePositive, a.TrueNegative + b.TrueNegative, a.FalseNegative + b.FalseNegative, a.Unscored + b.Unscored);
    }

    /// <summary>Compares a mask (1 cloud, 0 clear, 255 nodata) with labels (1 cloud, 0 clear, others ignored).</summary>
    public static Confusion Of(ReadOnlySpan<byte> mask, ReadOnlySpan<byte> labels)
    {
        if (mask.Length != labels.Length)
        {
            throw new ArgumentException("mask and labels differ in length", nameof(mask));
        }

        long tp = 0, fp = 0, tn = 0, fn = 0, unscored = 0;
        for (var i = 0; i < mask.Length; i++)
        {
            var l = labels[i];
            if (l > 1)
            {
                continue;
            }

            var m = mask[i];
            if (m > 1)
            {
                unscored++;
            }
            else if (l == 1)
            {
                if (m == 1) { tp++; } else { fn++; }
            }
            else if (m == 1)
            {
                fp++;
            }
            else
            {
                tn++;
            }
        }

        return new(tp, fp, tn, fn, unscored);
    }

    private static double Ratio(long a, long b) => b == 0 ? double.NaN : (double)a / b;
}
