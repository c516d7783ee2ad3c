using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Trees;

/// <summary>
/// An ensemble of small trees (up to 32 leaves each: our own 16-leaf boosted trees) evaluated
/// without walking: every split of a tree is tested for sixteen pixels at once, and the
/// answers pick the leaf through bit masks, after QuickScorer (Lucchese et al., SIGIR 2015).
/// <para>
/// A tree's leaves are numbered left to right, one bit each. A pixel starts with every bit
/// set; at each split it goes right of (x &gt; threshold), the leaves of the split's left
/// subtree are cleared. The leaf the pixel reaches is then the leftmost one left: every leaf
/// left of it shares an ancestor with it where the pixel went right, and no split clears
/// the leaf itself (it is in the right subtree of every ancestor the pixel went right of,
/// and outside the subtrees of the other splits). The order of the splits does not matter.
/// </para>
/// <para>
/// So a tree costs a compare and a masked AND per split for sixteen pixels, with no gather
/// and no dependence between splits, where a pixel-per-lane walk pays two gathers per level
/// of a tree of depth up to 12. The leaf values of a tree sit in two registers, picked by a
/// permute on the leaf's number (a leading-zero count), and are added in tree order in
/// float32 as the other kernels add them: the same margins, bit for bit.
/// </para>
/// <para>
/// Without AVX-512 (AVX2 machines: many cloud nodes) an ensemble takes the same masks eight
/// pixels a vector, numbered the other way (<see cref="_lowBits"/>): leaf k is bit k, so the
/// leaf reached is the lowest bit left, isolated by <c>m &amp; -m</c> and numbered by the
/// exponent of that power of two as a float, its value gathered from the tree's leaves.
/// Before, such machines walked the trees with gathers: on this project's Xeon with AVX-512
/// switched off, our built-in spectral forest went from 8.7-9.0 to 12.3-14.4 Mpx/s on two
/// threads, the temporal one from 7.2-7.5 to 11.2-11.9.
/// </para>
/// </summary>
internal sealed class MaskForest
{
    public const int Lanes = 16;

    /// <summary>Leaves per tree at most: one bit each in a 32-bit lane.</summary>
    public const int MaxLeaves = 32;

    /// <summary>All trees' splits, tree after tree (a tree's in any order).</summary>
    private readonly Split[] _splits;

    /// <summary>Tree t's splits are <c>_splits[_starts[t] .. _starts[t + 1])</c>.</summary>
    private readonly int[] _starts;

    /// <summary>Per tree, its leaf values left to right, padded to <see cref="MaxLeaves"/>.</summary>
    private readonly float[] _leaves;

    private readonly int _features;

    /// <summary>
    /// Leaf k is bit k (the AVX2 kernel, <see cref="AccumulateAvx2"/>) rather than bit 31 - k
    /// (the AVX-512 ones).
    /// </summary>
    private readonly bool _lowBits;

    /// <summary>The most leaves of any tree: how many 8-entry permutes the AVX2 kernel's leaf lookup needs.</summary>
    private readonly int _mostLeaves;

    /// <summary>The splits' tests, when they are few enough to be shared (see <see cref="AccumulateShared"/>); null otherwise.</summary>
    private readonly SharedTests? _shared;

    private MaskForest(Split[] splits, int[] starts, float[] leaves, int features, SharedTests? shared, bool lowBits = false)
    {
        // A tree of n splits has n + 1 leaves.
        _mostLeaves = Enumerable.Range(0, starts.Length - 1).Select(t => starts[t + 1] - starts[t] + 1).DefaultIfEmpty(1).Max();
        _splits = splits;
        _starts = starts;
        _leaves = leaves;
        _features = features;
        _shared = shared;
        _lowBits = lowBits;
    }

    /// <summary>Whether the splits share their tests (<see cref="AccumulateShared"/>).</summary>
    internal bool SharesTests => _shared is not null;

    /// <summary>
    /// Distinct tests at most for sharing them: their masks for two blocks of sixteen pixels
    /// (128 bytes a test) then take at most half of a 48 KiB L1, beside the splits (8 bytes
    /// each) and leaf tables. Our temporal forest's 188 tests fit (its trees went from 79-82
    /// to 56-61 ns per pixel); spectral's 277 (35 KiB of masks) ran no faster shared than
    /// with a compare per split (64-65 against 65-66).
    /// </summary>
    private const int MaxSharedTests = 192;

    /// <summary>Whether the processor runs the AVX-512 kernels (F with CD, for the leading-zero count): single trees need them.</summary>
    public static bool IsHardwareSupported => Avx512F.IsSupported && Avx512CD.IsSupported;

    /// <summary>Whether the processor runs an ensemble's kernel: the AVX-512 one, or else the AVX2 one.</summary>
    public static bool RunsHere => IsHardwareSupported || Avx2.IsSupported;

    /// <summary>
    /// The ensemble as leaf masks for the best kernel the processor runs, or null when a tree
    /// has more than <see cref="MaxLeaves"/> leaves.
    /// </summary>
    public static MaskForest? TryCreate(TreeEnsemble ensemble) => TryCreate(ensemble, avx2: !IsHardwareSupported);

    /// <summary>The ensemble as leaf masks for the AVX2 kernel (<paramref name="avx2"/>) or the AVX-512 ones.</summary>
    internal static MaskForest? TryCreate(TreeEnsemble ensemble, bool avx2)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        var splits = new List<Split>();
        var starts = new int[ensemble.TreeCount + 1];
        var leaves = new float[ensemble.TreeCount * MaxLeaves];
        var view = new EnsembleView(ensemble);
        for (var t = 0; t < ensemble.TreeCount; t++)
        {
            starts[t] = splits.Count;
            var next = 0;
            if (!Number(view, ensemble.Roots[t], splits, leaves.AsSpan(t * MaxLeaves, MaxLeaves), ref next, avx2))
            {
                return null;
            }
        }

        starts[^1] = splits.Count;
        if (avx2)
        {
            return new MaskForest([.. splits], starts, leaves, ensemble.FeatureCount, null, lowBits: true);
        }

        // Shared when most splits repeat a test (our own forests: 277 distinct tests among
        // spectral's 1,500 splits, 188 among temporal's).
        var tests = new Dictionary<(int Feature, int Bits), int>();
        var testOf = new int[splits.Count];
        for (var k = 0; k < splits.Count; k++)
        {
            var key = (splits[k].Feature, BitConverter.SingleToInt32Bits(splits[k].Threshold));
            if (!tests.TryGetValue(key, out testOf[k]))
            {
                testOf[k] = tests[key] = tests.Count;
            }
        }

        if (tests.Count == 0 || tests.Count > MaxSharedTests || tests.Count * 2 > splits.Count)
        {
            return new MaskForest([.. splits], starts, leaves, ensemble.FeatureCount, null);
        }

        var shared = new Comparison[tests.Count];
        foreach (var ((feature, bits), index) in tests)
        {
            shared[index] = new Comparison(feature, BitConverter.Int32BitsToSingle(bits));
        }

        // A test's pair of masks (two blocks) is 128 bytes.
        var sharedSplits = splits.Select((x, k) => new SharedSplit(x.Bits, testOf[k] * 128)).ToArray();
        return new MaskForest([.. splits], starts, leaves, ensemble.FeatureCount, new SharedTests(shared, sharedSplits));
    }

    /// <summary>
    /// One tree, seen through <paramref name="tree"/> from <paramref name="root"/>, as leaf
    /// masks with a compare per split (a single tree's splits rarely repeat a test), made
    /// without copying its nodes; null when it has more than <see cref="MaxLeaves"/> leaves.
    /// </summary>
    public static MaskForest? TryCreate<TTree>(TTree tree, int root, int features)
        where TTree : ITreeView
    {
        var splits = new List<Split>(MaxLeaves - 1);
        var leaves = new float[MaxLeaves];
        var next = 0;
        var avx2 = !IsHardwareSupported;
        return Number(tree, root, splits, leaves, ref next, lowBits: avx2)
            ? new MaskForest([.. splits], [0, splits.Count], leaves, features, null, lowBits: avx2)
            : null;
    }

    /// <summary>
    /// Numbers the leaves under <paramref name="node"/> left to right from <paramref name="next"/>
    /// on (their values into <paramref name="leaves"/>) and appends its splits; false when
    /// there are more than <see cref="MaxLeaves"/>. Leaf k is bit k where
    /// <paramref name="lowBits"/>, bit 31 - k otherwise.
    /// </summary>
    private static bool Number<TTree>(TTree tree, int node, List<Split> splits, Span<float> leaves, ref int next, bool lowBits)
        where TTree : ITreeView
    {
        var first = next;
        if (tree.IsLeaf(node))
        {
            if (next == MaxLeaves)
            {
                return false;
            }

            leaves[next++] = tree.Leaf(node);
            return true;
        }

        var split = tree.Split(node);
        if (!Number(tree, split.Left, splits, leaves, ref next, lowBits))
        {
            return false;
        }

        var leftEnd = next;
        if (!Number(tree, split.Right, splits, leaves, ref next, lowBits))
        {
            return false;
        }

        // Going right clears the left subtree's leaves [first, leftEnd).
        var bits = (1UL << (leftEnd - first)) - 1;
        splits.Add(lowBits
            ? new Split(split.Feature, split.Threshold, (uint)(bits << first))
            : new Split(split.Feature, split.Threshold, ~(uint)(bits << (MaxLeaves - leftEnd))));
        return true;
    }

    /// <summary>A tree of an ensemble: nodes from 0 are splits, leaves are <c>~index</c>.</summary>
    private readonly struct EnsembleView(TreeEnsemble ensemble) : ITreeView
    {
        public bool IsLeaf(int node) => node < 0;

        public TreeNode Split(int node) => ensemble.Nodes[node];

        public float Leaf(int node) => ensemble.Leaves[~node];
    }

    /// <summary>
    /// Adds every tree's leaf, in tree order, to <c>dest[0 .. count)</c> (which holds the
    /// starting margins) for pixels whose NaN-free features are in planes (feature f of pixel
    /// i at <c>planes[f * stride + i]</c>); count a multiple of 16.
    /// </summary>
    public unsafe void Accumulate(ReadOnlySpan<float> planes, int stride, int count, Span<float> dest)
    {
        if (count % Lanes != 0 || count > stride || dest.Length < count || (_features > 0 && planes.Length < ((_features - 1) * stride) + count))
        {
            throw new ArgumentException("count must be a multiple of 16 and fit the planes and destination");
        }

        fixed (float* x = planes)
        fixed (float* acc = dest)
        fixed (Split* splits = _splits)
        fixed (float* leaves = _leaves)
        {
            if (_lowBits)
            {
                AccumulateAvx2(x, stride, count, acc, splits, leaves);
                return;
            }

            if (_shared is { } shared)
            {
                AccumulateShared(shared, x, stride, count, acc, splits, leaves);
                return;
            }

            var i = 0;

            // Eight blocks of sixteen pixels share each split's threshold and mask.
            for (; i + (8 * Lanes) <= count; i += 8 * Lanes)
            {
                var (a0, a1, a2, a3) = (Vector512.Load(acc + i), Vector512.Load(acc + i + 16), Vector512.Load(acc + i + 32), Vector512.Load(acc + i + 48));
                var (a4, a5, a6, a7) = (Vector512.Load(acc + i + 64), Vector512.Load(acc + i + 80), Vector512.Load(acc + i + 96), Vector512.Load(acc + i + 112));
                for (var t = 0; t + 1 < _starts.Length; t++)
                {
                    var (m0, m1, m2, m3) = (Vector512<uint>.AllBitsSet, Vector512<uint>.AllBitsSet, Vector512<uint>.AllBitsSet, Vector512<uint>.AllBitsSet);
                    var (m4, m5, m6, m7) = (Vector512<uint>.AllBitsSet, Vector512<uint>.AllBitsSet, Vector512<uint>.AllBitsSet, Vector512<uint>.AllBitsSet);
                    for (var s = splits + _starts[t]; s < splits + _starts[t + 1]; s++)
                    {
                        var at = x + ((long)s->Feature * stride) + i;
                        var threshold = Vector512.Create(s->Threshold);
                        var keep = Vector512.Create(s->Bits);
                        m0 = Test(Vector512.Load(at), threshold, keep, m0);
                        m1 = Test(Vector512.Load(at + 16), threshold, keep, m1);
                        m2 = Test(Vector512.Load(at + 32), threshold, keep, m2);
                        m3 = Test(Vector512.Load(at + 48), threshold, keep, m3);
                        m4 = Test(Vector512.Load(at + 64), threshold, keep, m4);
                        m5 = Test(Vector512.Load(at + 80), threshold, keep, m5);
                        m6 = Test(Vector512.Load(at + 96), threshold, keep, m6);
                        m7 = Test(Vector512.Load(at + 112), threshold, keep, m7);
                    }

                    var lo = Vector512.Load(leaves + (t * MaxLeaves));
                    var hi = Vector512.Load(leaves + (t * MaxLeaves) + 16);
                    a0 += Leaf(m0, lo, hi);
                    a1 += Leaf(m1, lo, hi);
                    a2 += Leaf(m2, lo, hi);
                    a3 += Leaf(m3, lo, hi);
                    a4 += Leaf(m4, lo, hi);
                    a5 += Leaf(m5, lo, hi);
                    a6 += Leaf(m6, lo, hi);
                    a7 += Leaf(m7, lo, hi);
                }

                a0.Store(acc + i);
                a1.Store(acc + i + 16);
                a2.Store(acc + i + 32);
                a3.Store(acc + i + 48);
                a4.Store(acc + i + 64);
                a5.Store(acc + i + 80);
                a6.Store(acc + i + 96);
                a7.Store(acc + i + 112);
            }

            Singles(x, stride, i, count, acc, splits, leaves);
        }
    }

    /// <summary>
    /// <see cref="Accumulate"/> for a forest whose splits share few distinct tests: for two
    /// blocks of sixteen pixels, each test is made once into a vector mask per block (all
    /// ones where the value is above the threshold, kept in L1), and each split then clears
    /// its left-subtree leaves with one ternary-logic op on that mask,
    /// <c>mask &amp; (keep | ~test)</c>, instead of a compare of its own. The same bits as
    /// the compare-per-split loop, the trees added in order.
    /// </summary>
    private unsafe void AccumulateShared(SharedTests shared, float* x, int stride, int count, float* acc, Split* splits, float* leaves)
    {
        var tests = shared.Tests;
        var raw = stackalloc byte[(tests.Length * 128) + 64];
        var masks = (Vector512<uint>*)(((nint)raw + 63) & ~(nint)63);
        fixed (Comparison* test = tests)
        fixed (SharedSplit* compact = shared.Splits)
        {
            var i = 0;
            for (; i + (2 * Lanes) <= count; i += 2 * Lanes)
            {
                for (var d = 0; d < tests.Length; d++)
                {
                    var at = x + ((long)test[d].Feature * stride) + i;
                    var threshold = Vector512.Create(test[d].Threshold);
                    masks[2 * d] = Vector512.GreaterThan(Vector512.Load(at), threshold).AsUInt32();
                    masks[(2 * d) + 1] = Vector512.GreaterThan(Vector512.Load(at + Lanes), threshold).AsUInt32();
                }

                var (a0, a1) = (Vector512.Load(acc + i), Vector512.Load(acc + i + Lanes));
                for (var t = 0; t + 1 < _starts.Length; t++)
                {
                    var (m0, m1) = (Vector512<uint>.AllBitsSet, Vector512<uint>.AllBitsSet);
                    var end = compact + _starts[t + 1];
                    for (var s = compact + _starts[t]; s < end; s++)
                    {
                        // 0xD0: m & (keep | ~test), bit for bit the masked AND of Test below.
                        var keep = Vector512.Create(s->Keep);
                        var pair = (Vector512<uint>*)((byte*)masks + s->Offset);
                        m0 = Avx512F.TernaryLogic(m0, keep, pair[0], 0xD0);
                        m1 = Avx512F.TernaryLogic(m1, keep, pair[1], 0xD0);
                    }

                    var (lo, hi) = (Vector512.Load(leaves + (t * MaxLeaves)), Vector512.Load(leaves + (t * MaxLeaves) + 16));
                    a0 += Leaf(m0, lo, hi);
                    a1 += Leaf(m1, lo, hi);
                }

                a0.Store(acc + i);
                a1.Store(acc + i + Lanes);
            }

            Singles(x, stride, i, count, acc, splits, leaves);
        }
    }

    /// <summary>
    /// <see cref="Accumulate"/> with AVX2: eight blocks of eight pixels share each split's
    /// threshold and bits (its <see cref="Split.Bits"/> are the leaves it clears here), a
    /// compare and two bitwise ops per split and block (<c>m &amp;= ~(test &amp; bits)</c>);
    /// each tree's leaves are added to the margins in memory (eight accumulators would not
    /// fit beside eight masks in AVX2's sixteen registers), then the rest eight at a time.
    /// </summary>
    private unsafe void AccumulateAvx2(float* x, int stride, int count, float* acc, Split* splits, float* leaves)
    {
        const int Width = 8;
        var i = 0;
        for (; i + (8 * Width) <= count; i += 8 * Width)
        {
            for (var t = 0; t + 1 < _starts.Length; t++)
            {
                var (m0, m1, m2, m3) = (Vector256<uint>.AllBitsSet, Vector256<uint>.AllBitsSet, Vector256<uint>.AllBitsSet, Vector256<uint>.AllBitsSet);
                var (m4, m5, m6, m7) = (Vector256<uint>.AllBitsSet, Vector256<uint>.AllBitsSet, Vector256<uint>.AllBitsSet, Vector256<uint>.AllBitsSet);
                for (var s = splits + _starts[t]; s < splits + _starts[t + 1]; s++)
                {
                    var at = x + ((long)s->Feature * stride) + i;
                    var threshold = Vector256.Create(s->Threshold);
                    var bits = Vector256.Create(s->Bits);
                    m0 = Test(Vector256.Load(at), threshold, bits, m0);
                    m1 = Test(Vector256.Load(at + 8), threshold, bits, m1);
                    m2 = Test(Vector256.Load(at + 16), threshold, bits, m2);
                    m3 = Test(Vector256.Load(at + 24), threshold, bits, m3);
                    m4 = Test(Vector256.Load(at + 32), threshold, bits, m4);
                    m5 = Test(Vector256.Load(at + 40), threshold, bits, m5);
                    m6 = Test(Vector256.Load(at + 48), threshold, bits, m6);
                    m7 = Test(Vector256.Load(at + 56), threshold, bits, m7);
                }

                var tree = leaves + (t * MaxLeaves);
                var n = _mostLeaves;
                var a = acc + i;
                (Vector256.Load(a) + Leaf(m0, tree, n)).Store(a);
                (Vector256.Load(a + 8) + Leaf(m1, tree, n)).Store(a + 8);
                (Vector256.Load(a + 16) + Leaf(m2, tree, n)).Store(a + 16);
                (Vector256.Load(a + 24) + Leaf(m3, tree, n)).Store(a + 24);
                (Vector256.Load(a + 32) + Leaf(m4, tree, n)).Store(a + 32);
                (Vector256.Load(a + 40) + Leaf(m5, tree, n)).Store(a + 40);
                (Vector256.Load(a + 48) + Leaf(m6, tree, n)).Store(a + 48);
                (Vector256.Load(a + 56) + Leaf(m7, tree, n)).Store(a + 56);
            }
        }

        for (; i < count; i += Width)
        {
            var a = Vector256.Load(acc + i);
            for (var t = 0; t + 1 < _starts.Length; t++)
            {
                var m = Vector256<uint>.AllBitsSet;
                for (var s = splits + _starts[t]; s < splits + _starts[t + 1]; s++)
                {
                    m = Test(Vector256.Load(x + ((long)s->Feature * stride) + i), Vector256.Create(s->Threshold), Vector256.Create(s->Bits), m);
                }

                a += Leaf(m, leaves + (t * MaxLeaves), _mostLeaves);
            }

            a.Store(acc + i);
        }
    }

    /// <summary>Pixels [from, count) sixteen at a time, a compare per split: the blocks left over by the wider loops.</summary>
    private unsafe void Singles(float* x, int stride, int from, int count, float* acc, Split* splits, float* leaves)
    {
        for (var i = from; i < count; i += Lanes)
        {
            var a = Vector512.Load(acc + i);
            for (var t = 0; t + 1 < _starts.Length; t++)
            {
                var m = Vector512<uint>.AllBitsSet;
                for (var s = splits + _starts[t]; s < splits + _starts[t + 1]; s++)
                {
                    m = Test(Vector512.Load(x + ((long)s->Feature * stride) + i), Vector512.Create(s->Threshold), Vector512.Create(s->Bits), m);
                }

                a += Leaf(m, Vector512.Load(leaves + (t * MaxLeaves)), Vector512.Load(leaves + (t * MaxLeaves) + 16));
            }

            a.Store(acc + i);
        }
    }

    /// <summary>Clears the split's left-subtree leaves in the lanes whose value is above its threshold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Test(Vector512<float> value, Vector512<float> threshold, Vector512<uint> keep, Vector512<uint> mask) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(value, threshold).AsUInt32(), mask & keep, mask);

    /// <summary>
    /// The value of the leftmost leaf left in each lane's mask (never empty: the pixel's own
    /// leaf stays). Leaf k is bit 31 - k, so the leftmost is the highest bit and its number
    /// is the count of leading zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Leaf(Vector512<uint> mask, Vector512<float> lo, Vector512<float> hi) =>
        Avx512F.PermuteVar16x32x2(lo, Avx512CD.LeadingZeroCount(mask).AsInt32(), hi);

    /// <summary>Clears the split's left-subtree leaves (<paramref name="left"/>) in the lanes whose value is above its threshold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Test(Vector256<float> value, Vector256<float> threshold, Vector256<uint> left, Vector256<uint> mask) =>
        Vector256.AndNot(mask, Vector256.GreaterThan(value, threshold).AsUInt32() & left);

    /// <summary>
    /// The value of the leftmost leaf left in each lane's mask, leaf k at bit k: the lowest
    /// bit, <c>m &amp; -m</c>, is a power of two 2^k, exact as a float (bit 31 as -2^31),
    /// whose exponent field is 127 + k; k picks the value from the tree's leaves by permutes
    /// (<see cref="Permute32"/>). It was gathered before: on an AMD EPYC (Zen 3), where an
    /// 8-lane gather costs about 4.9 ns, the built-in models on one thread went from 4.8-5.2
    /// to 5.4-6.1 Mpx/s (spectral) and from 2.7-3.8 to 4.8-5.5 (temporal), three alternating
    /// runs each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Leaf(Vector256<uint> mask, float* tree, int leaves)
    {
        var lowest = (mask & (Vector256<uint>.Zero - mask)).AsInt32();
        var k = (Vector256.ShiftRightLogical(Vector256.ConvertToSingle(lowest).AsInt32(), 23) & Vector256.Create(0xFF)) - Vector256.Create(127);
        return Permute32.Look(tree, k, leaves);
    }

    /// <summary>
    /// A split: the feature, the threshold, and the leaf bits it acts on when the pixel goes
    /// right: in the AVX-512 layout those it keeps (for a masked AND), in the AVX2 layout
    /// those it clears (for an AND-NOT).
    /// </summary>
    private readonly record struct Split(int Feature, float Threshold, uint Bits);

    /// <summary>A split of a forest that shares its tests: its keep bits and where its test's masks are.</summary>
    private readonly record struct SharedSplit(uint Keep, int Offset);

    /// <summary>
    /// The distinct (feature, threshold) tests of a forest's splits, and per split its keep
    /// bits and the byte offset of its test's pair of masks (8 bytes, not 16, so more of L1
    /// holds masks).
    /// </summary>
    private sealed record SharedTests(Comparison[] Tests, SharedSplit[] Splits);

    /// <summary>A distinct test of a forest's splits: value above threshold.</summary>
    private readonly record struct Comparison(int Feature, float Threshold);
}

/// <summary>How <see cref="MaskForest"/> reads a tree: which nodes are leaves, a split's test and children, a leaf's value.</summary>
internal interface ITreeView
{
    bool IsLeaf(int node);

    TreeNode Split(int node);

    float Leaf(int node);
}
