using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Trees;

/// <summary>
/// The distinct thresholds of each feature of an ensemble, ascending, for the kernels that
/// compare ranks instead of values (<see cref="LaneForest"/>, <see cref="PermuteForest"/>): a
/// value's rank is the count of its feature's thresholds below it, so <c>x &gt; t</c> holds
/// exactly when <c>rank(x) &gt; index(t)</c>, for every float32 x, -0 and +0 being one threshold.
/// </summary>
internal sealed class ThresholdRanks
{
    private ThresholdRanks(float[][] cuts, int[] counts)
    {
        Cuts = cuts;
        Counts = counts;
    }

    /// <summary>Per feature, its distinct thresholds ascending, padded with +inf to a power of two (at least one pad).</summary>
    public float[][] Cuts { get; }

    /// <summary>Per feature, how many distinct thresholds it has.</summary>
    public int[] Counts { get; }

    /// <summary>The thresholds of <paramref name="ensemble"/>, or null where one is NaN or a feature has more than <paramref name="maxPerFeature"/>.</summary>
    public static ThresholdRanks? TryCreate(TreeEnsemble ensemble, int maxPerFeature)
    {
        var distinct = new SortedSet<float>[ensemble.FeatureCount];
        for (var f = 0; f < distinct.Length; f++)
        {
            distinct[f] = [];
        }

        foreach (var n in ensemble.Nodes)
        {
            if (float.IsNaN(n.Threshold))
            {
                return null;
            }

            // -0 and +0 are one threshold: SortedSet compares them equal.
            distinct[n.Feature].Add(n.Threshold);
        }

        var cuts = new float[distinct.Length][];
        for (var f = 0; f < distinct.Length; f++)
        {
            if (distinct[f].Count > maxPerFeature)
            {
                return null;
            }

            var size = 1;
            while (size <= distinct[f].Count)
            {
                size *= 2;
            }

            cuts[f] = new float[size];
            Array.Fill(cuts[f], float.PositiveInfinity);
            distinct[f].CopyTo(cuts[f], 0);
        }

        return new ThresholdRanks(cuts, [.. distinct.Select(d => d.Count)]);
    }

    /// <summary>Deepest tree the byte-lane walks take: its last path fits a byte.</summary>
    public const int ByteLaneMaxDepth = 9;

    /// <summary>Where a feature's bits sit in the byte-lane walks' table bytes: the upper four, so each blend mask is the sign after 0-3 doublings.</summary>
    public const int FeatureShift = 4;

    /// <summary>
    /// The thresholds of an ensemble for the byte-lane walks (<see cref="PermuteForest"/>,
    /// <see cref="ShuffleForest"/>), or null where it does not suit: an average, fewer than
    /// <paramref name="minTrees"/> trees, more than 16 features, a tree deeper than 9 or no
    /// tree deeper than 1, fewer than a quarter of the leaves complete trees of that depth
    /// would have (sparse trees: every pixel walks the full depth there), a NaN threshold, or
    /// 16,384 distinct thresholds of a feature or more (ranks below 2^14 keep both bytes'
    /// arithmetic within a signed byte).
    /// </summary>
    public static ThresholdRanks? ForByteLanes(TreeEnsemble ensemble, int minTrees)
    {
        var depth = ensemble.MaxDepth;
        return ensemble.Aggregation == Aggregation.Average || ensemble.TreeCount < minTrees || ensemble.FeatureCount > 16
            || depth < 2 || depth > ByteLaneMaxDepth
            || (long)ensemble.TreeCount << depth > 4L * ensemble.Leaves.Length
            ? null
            : TryCreate(ensemble, (1 << 14) - 1);
    }

    /// <summary>Feature planes a byte-lane walk's blend tree reads: 2, 4, 8, 9 or 16 (those past the features are never picked).</summary>
    public static int PickWidth(int features) => features switch { <= 2 => 2, <= 4 => 4, <= 8 => 8, 9 => 9, _ => 16 };

    /// <summary>The index of a split's threshold among its feature's.</summary>
    public int IndexOf(TreeNode split) => Array.BinarySearch(Cuts[split.Feature], 0, Counts[split.Feature], split.Threshold);

    /// <summary>
    /// The ranks of 64 values at <paramref name="v"/> in <paramref name="cuts"/>, from the
    /// starting ranks in <paramref name="ranks"/> (multiples of 2 <paramref name="top"/>; zero
    /// for a whole search) by steps <paramref name="top"/>, top / 2, ... 1, written back to
    /// <paramref name="ranks"/>: eight vectors side by side, so their gathers' latencies overlap
    /// (one vector alone waits on each: spectral's nine features took 109 ns per pixel that way,
    /// 66 with four vectors on this project's Xeon).
    /// </summary>
    public static unsafe void Search64(float* cuts, int top, float* v, int* ranks)
    {
        var (v0, v1, v2, v3) = (Vector256.Load(v), Vector256.Load(v + 8), Vector256.Load(v + 16), Vector256.Load(v + 24));
        var (v4, v5, v6, v7) = (Vector256.Load(v + 32), Vector256.Load(v + 40), Vector256.Load(v + 48), Vector256.Load(v + 56));
        var (r0, r1, r2, r3) = (Vector256.Load(ranks), Vector256.Load(ranks + 8), Vector256.Load(ranks + 16), Vector256.Load(ranks + 24));
        var (r4, r5, r6, r7) = (Vector256.Load(ranks + 32), Vector256.Load(ranks + 40), Vector256.Load(ranks + 48), Vector256.Load(ranks + 56));
        for (var step = top; step > 0; step >>= 1)
        {
            r0 = Search(cuts, step, v0, r0);
            r1 = Search(cuts, step, v1, r1);
            r2 = Search(cuts, step, v2, r2);
            r3 = Search(cuts, step, v3, r3);
            r4 = Search(cuts, step, v4, r4);
            r5 = Search(cuts, step, v5, r5);
            r6 = Search(cuts, step, v6, r6);
            r7 = Search(cuts, step, v7, r7);
        }

        r0.Store(ranks);
        r1.Store(ranks + 8);
        r2.Store(ranks + 16);
        r3.Store(ranks + 24);
        r4.Store(ranks + 32);
        r5.Store(ranks + 40);
        r6.Store(ranks + 48);
        r7.Store(ranks + 56);
    }

    /// <summary>
    /// One step of the branch-free binary search for ranks: where <c>cuts[r + step - 1] &lt; v</c>,
    /// all of the next <paramref name="step"/> thresholds are below v too, so r grows by step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<int> Search(float* cuts, int step, Vector256<float> v, Vector256<int> r) =>
        r + (Vector256.LessThan(Avx2.GatherVector256(cuts + step - 1, r, 4), v).AsInt32() & Vector256.Create(step));
}
