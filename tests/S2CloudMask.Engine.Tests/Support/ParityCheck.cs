using Xunit.Abstractions;

namespace S2CloudMask.Engine.Tests.Support;

/// <summary>
/// Compares a probability image with a golden one under the parity tolerance and reports the
/// worst case. Tolerance: |dp| &lt;= 1e-4 on at least 99.9 % of pixels, masks (p &gt; 0.5)
/// equal on at least 99.9 %, NaN exactly where golden has NaN. Float32 rounding (log
/// implementations, summation order) moves p by ~1e-7; a larger difference comes only from a
/// feature landing on the other side of a split threshold, which is rare but not impossible.
/// </summary>
public static class ParityCheck
{
    public const double MaxAbsDiff = 1e-4;
    public const double MinFraction = 0.999;

    public sealed record Report(string Name, long Pixels, long WithinTolerance, long MaskAgree, long NaNMismatch, double WorstDiff, long WorstIndex, float WorstActual, float WorstGolden)
    {
        public double FractionWithin => (double)WithinTolerance / Pixels;

        public double FractionMaskAgree => (double)MaskAgree / Pixels;

        public override string ToString() =>
            $"{Name}: {Pixels} px, |dp|<=1e-4 on {FractionWithin:P4}, masks equal on {FractionMaskAgree:P4}, NaN mismatches {NaNMismatch}, " +
            (WorstIndex < 0 ? "bit-identical" : $"worst |dp| {WorstDiff:G3} at pixel {WorstIndex} (ours {WorstActual}, golden {WorstGolden})");
    }

    public static Report Compare(string name, ReadOnlySpan<float> actual, ReadOnlySpan<float> golden, float threshold = 0.5f)
    {
        Assert.Equal(golden.Length, actual.Length);
        long within = 0, agree = 0, nanMismatch = 0, worstIndex = -1;
        double worst = 0;
        for (var i = 0; i < golden.Length; i++)
        {
            float a = actual[i], g = golden[i];
            if (float.IsNaN(a) || float.IsNaN(g))
            {
                if (float.IsNaN(a) && float.IsNaN(g))
                {
                    within++;
                    agree++;
                }
                else
                {
                    nanMismatch++;
                }

                continue;
            }

            var d = Math.Abs((double)a - g);
            if (d <= MaxAbsDiff)
            {
                within++;
            }

            if ((a > threshold) == (g > threshold))
            {
                agree++;
            }

            if (d > worst)
            {
                worst = d;
                worstIndex = i;
            }
        }

        return new Report(name, golden.Length, within, agree, nanMismatch, worst, worstIndex,
            worstIndex >= 0 ? actual[(int)worstIndex] : float.NaN, worstIndex >= 0 ? golden[(int)worstIndex] : float.NaN);
    }

    public static void AssertWithin(Report report, ITestOutputHelper output)
    {
        output.WriteLine(report.ToString());
        Assert.True(report.FractionWithin >= MinFraction, report.ToString());
        Assert.True(report.FractionMaskAgree >= MinFraction, report.ToString());
        Assert.True(report.NaNMismatch == 0, report.ToString());
    }
}
