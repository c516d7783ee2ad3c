using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Trees;

/// <summary>
/// A summed ensemble of trees up to 9 deep (XGBoost's 200 trees of depth 9) evaluated
/// 32 pixels at a time in 16-bit lanes, with every lookup a register permute and no gather.
/// <para>
/// Why: on this project's AMD EPYC (Zen 5) a gather costs about half a nanosecond per element
/// fetched, whatever its width (8 x 32 bits 3.9 ns, 4 x 64 bits 1.95 ns, 16 x 32 bits 6.1 ns,
/// measured in C), while a 512-bit permute issues more than one per cycle. The trees-in-lanes
/// walk (<see cref="LaneForest"/>) fetches seven elements per tree and pixel and is bound by
/// that (the published spectral forest: 489 ns per pixel on one thread).
/// </para>
/// <para>
/// How: a feature value becomes its rank, the count of the feature's distinct thresholds
/// below it, a 16-bit word (so <c>x &gt; threshold</c> holds exactly when
/// <c>rank &gt; threshold's index</c>, as in <see cref="LaneForest"/>). One tree at a time walks
/// the pixels level by level, its path <c>p</c> per lane: level L's thresholds' indices and
/// features are tables of <c>2^L</c> words, looked up by <c>vpermw</c> (up to 32 entries) or
/// <c>vpermt2w</c> (64 each, blended by the higher bits of p), and the pixel's word of the
/// node's feature is picked from the feature planes by a tree of blends on the feature's bits.
/// The leaves, float32, are two 16-bit halves looked up alike and interleaved. Eight blocks of
/// 32 pixels walk side by side: one alone waits on each level's chain of dependent permutes
/// (a C model of this kernel: 424 ns per pixel with one block, 170-210 with eight). The leaves
/// are added to the margins tree by tree in float32, as XGBoost adds them, so the margins equal
/// the other kernels' bit for bit.
/// </para>
/// </summary>
internal sealed class PermuteForest
{
    /// <summary>Pixels per vector; calls take a multiple of this.</summary>
    public const int Lanes = 32;

    private const int MaxDepth = 9;

    private const int MaxFeatures = 16;

    /// <summary>Per feature, its distinct thresholds ascending, padded with +inf to a power of two (at least one pad).</summary>
    private readonly float[][] _cuts;

    /// <summary>Per feature, thresholds N/32 - 1, 2N/32 - 1, ... of its N cuts (+inf where N &lt; 64: unused).</summary>
    private readonly float[][] _coarse;

    /// <summary>
    /// Per tree <see cref="_treeWords"/> words: the threshold indices of levels 0 .. depth-1
    /// (level L at <see cref="LevelOffset"/>(L), max(32, 2^L) words), their features alike, then
    /// (shifted by <see cref="FeatureShift"/>), the 2^depth leaves' upper and lower 16 bits (max(32, 2^depth) words each).
    /// </summary>
    private readonly ushort[] _tables;

    private readonly int _depth;
    private readonly int _trees;
    private readonly int _features;
    private readonly int _sectionWords;
    private readonly int _leafWords;
    private readonly int _treeWords;

    /// <summary>Offset of each level's table in a section.</summary>
    private readonly int[] _offsets;

    private PermuteForest(float[][] cuts, ushort[] tables, int depth, int trees, int features)
    {
        _cuts = cuts;
        _coarse = cuts.Select(c => Enumerable.Range(1, CoarseEntries).Select(k => c.Length >= 2 * CoarseEntries ? c[(k * (c.Length / CoarseEntries)) - 1] : float.PositiveInfinity).ToArray()).ToArray();
        _tables = tables;
        _depth = depth;
        _trees = trees;
        _features = features;
        (_sectionWords, _leafWords, _treeWords) = Sizes(depth);
        _offsets = Enumerable.Range(0, depth).Select(LevelOffset).ToArray();
    }

    /// <summary>Whether the processor runs it: AVX-512 with 16-bit lanes (BW) and 256-bit gathers for the ranks.</summary>
    public static bool RunsHere => Avx512BW.IsSupported && Avx512BW.VL.IsSupported && Avx2.IsSupported;

    /// <summary>Words of a level table: a permute reads 32 at least.</summary>
    private static int TableWords(int level) => Math.Max(Lanes, 1 << level);

    private static int LevelOffset(int level)
    {
        var offset = 0;
        for (var l = 0; l < level; l++)
        {
            offset += TableWords(l);
        }

        return offset;
    }

    private static (int Section, int Leaves, int Tree) Sizes(int depth)
    {
        var section = LevelOffset(depth);
        var leaves = TableWords(depth);
        return (section, leaves, (2 * section) + (2 * leaves));
    }

    /// <summary>
    /// The layout of a summed ensemble, or null where it does not suit: an average, fewer than
    /// 8 trees, more than 16 features, a tree deeper than 9 (its tables would outgrow the
    /// registers' permutes), fewer than a quarter of the leaves complete trees of that depth
    /// would have (sparse trees: every pixel walks the full depth here), a NaN threshold, or
    /// more than 65,535 distinct thresholds of a feature (ranks are 16-bit).
    /// </summary>
    public static PermuteForest? TryCreate(TreeEnsemble ensemble)
    {
        var depth = ensemble.MaxDepth;
        if (ensemble.Aggregation == Aggregation.Average || ensemble.TreeCount < 8 || ensemble.FeatureCount > MaxFeatures
            || depth < 1 || depth > MaxDepth || ensemble.HasNaNThreshold
            || (long)ensemble.TreeCount << depth > 4L * ensemble.Leaves.Length)
        {
            return null;
        }

        var distinct = new SortedSet<float>[ensemble.FeatureCount];
        for (var f = 0; f < distinct.Length; f++)
        {
            distinct[f] = [];
        }

        foreach (var n in ensemble.Nodes)
        {
            // -0 and +0 are one threshold: SortedSet compares them equal.
            distinct[n.Feature].Add(n.Threshold);
        }

        var cuts = new float[distinct.Length][];
        for (var f = 0; f < distinct.Length; f++)
        {
            if (distinct[f].Count > ushort.MaxValue)
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

        var (section, leafWords, treeWords) = Sizes(depth);
        var tables = new ushort[ensemble.TreeCount * treeWords];
        for (var t = 0; t < ensemble.TreeCount; t++)
        {
            var tree = tables.AsSpan(t * treeWords, treeWords);
            Fill(tree, ensemble.Roots[t], 0, 0);

            void Fill(Span<ushort> tree, int node, int level, int path)
            {
                if (node >= 0)
                {
                    var split = ensemble.Nodes[node];
                    tree[LevelOffset(level) + path] = (ushort)Array.BinarySearch(cuts[split.Feature], 0, distinct[split.Feature].Count, split.Threshold);
                    tree[section + LevelOffset(level) + path] = (ushort)(split.Feature << FeatureShift);
                    Fill(tree, split.Left, level + 1, 2 * path);
                    Fill(tree, split.Right, level + 1, (2 * path) + 1);
                    return;
                }

                // A leaf above the bottom: the slots under it keep index 0 and feature 0
                // (either way is right) and every bottom slot under it holds its value.
                var bits = BitConverter.SingleToUInt32Bits(ensemble.Leaves[~node]);
                var first = path << (depth - level);
                for (var k = 0; k < 1 << (depth - level); k++)
                {
                    tree[(2 * section) + first + k] = (ushort)(bits >> 16);
                    tree[(2 * section) + leafWords + first + k] = (ushort)bits;
                }
            }
        }

        return new PermuteForest(cuts, tables, depth, ensemble.TreeCount, ensemble.FeatureCount);
    }

    /// <summary>
    /// Adds every tree's leaf, in tree order, to <c>dest[0 .. count)</c> (which holds the
    /// starting margins) for pixels whose NaN-free features are in planes (feature f of pixel
    /// i at <c>planes[f * stride + i]</c>); count a multiple of 32.
    /// </summary>
    public unsafe void Accumulate(ReadOnlySpan<float> planes, int stride, int count, Span<float> dest)
    {
        if (count % Lanes != 0 || count > stride || dest.Length < count || planes.Length < ((_features - 1) * stride) + count)
        {
            throw new ArgumentException("count must be a multiple of 32 and fit the planes and destination");
        }

        if (count == 0)
        {
            return;
        }

        // Ranks block by block: block b's plane of feature f (32 words) at (b * width + f) * 32,
        // 64-byte aligned, so the picks read every plane at a fixed offset from the block. The
        // blend tree picking a lane's plane reads as many as its width (2, 4, 8, 9 or 16), the
        // ones past the features never picked.
        var width = PickWidth(_features);
        var rented = ArrayPool<ushort>.Shared.Rent((width * count) + Lanes);
        try
        {
            fixed (ushort* raw = rented)
            fixed (ushort* tables = _tables)
            fixed (float* acc = dest)
            {
                var ranks = (ushort*)(((nint)raw + 63) & ~(nint)63);
                Rank(planes, stride, count, ranks, width);
                switch (_features)
                {
                    case <= 2: Walk<Pick2>(ranks, count, width, tables, acc); break;
                    case <= 4: Walk<Pick4>(ranks, count, width, tables, acc); break;
                    case <= 8: Walk<Pick8>(ranks, count, width, tables, acc); break;
                    case 9: Walk<Pick9>(ranks, count, width, tables, acc); break;
                    default: Walk<Pick16>(ranks, count, width, tables, acc); break;
                }
            }
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Each pixel's ranks, block by block (see <see cref="Accumulate"/>): for each feature the
    /// count of its thresholds below the value. A branch-free binary search, 64 pixels at a time
    /// in independent vectors: its first five steps read only every (N/32)th threshold, which
    /// sit in two registers (<see cref="_coarse"/>) and are permuted, not gathered; the rest
    /// gathers, eight vectors side by side so their latencies overlap. (All thirteen steps by
    /// gathers took 42 ns per pixel for the nine features of the published spectral model.)
    /// </summary>
    private unsafe void Rank(ReadOnlySpan<float> planes, int stride, int count, ushort* ranks, int width)
    {
        fixed (float* x = planes)
        {
            for (var f = 0; f < _features; f++)
            {
                fixed (float* cuts = _cuts[f])
                fixed (float* coarse = _coarse[f])
                {
                    var (lower, upper) = (Vector512.Load(coarse), Vector512.Load(coarse + 16));
                    var size = _cuts[f].Length;
                    var unit = size / CoarseEntries;
                    var unitShift = BitOperations.Log2((uint)Math.Max(unit, 1));
                    var fine = size >= 2 * CoarseEntries ? unit / 2 : size / 2;
                    var plane = ranks + (f * Lanes);
                    var i = 0;
                    for (; i + 64 <= count; i += 64)
                    {
                        var v = x + (f * stride) + i;
                        Vector512<int> c0 = default, c1 = default, c2 = default, c3 = default;
                        if (size >= 2 * CoarseEntries)
                        {
                            var (w0, w1, w2, w3) = (Vector512.Load(v), Vector512.Load(v + 16), Vector512.Load(v + 32), Vector512.Load(v + 48));
                            for (var step = size / 2; step >= unit; step >>= 1)
                            {
                                c0 = Coarse(lower, upper, step, unitShift, w0, c0);
                                c1 = Coarse(lower, upper, step, unitShift, w1, c1);
                                c2 = Coarse(lower, upper, step, unitShift, w2, c2);
                                c3 = Coarse(lower, upper, step, unitShift, w3, c3);
                            }
                        }

                        var (v0, v1, v2, v3) = (Vector256.Load(v), Vector256.Load(v + 8), Vector256.Load(v + 16), Vector256.Load(v + 24));
                        var (v4, v5, v6, v7) = (Vector256.Load(v + 32), Vector256.Load(v + 40), Vector256.Load(v + 48), Vector256.Load(v + 56));
                        var (r0, r1, r2, r3) = (c0.GetLower(), c0.GetUpper(), c1.GetLower(), c1.GetUpper());
                        var (r4, r5, r6, r7) = (c2.GetLower(), c2.GetUpper(), c3.GetLower(), c3.GetUpper());
                        for (var step = fine; step > 0; step >>= 1)
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

                        // 64 pixels: blocks i / 32 and i / 32 + 1.
                        var o = plane + (i * width);
                        var o2 = o + (Lanes * width);
                        Avx512BW.VL.ConvertToVector128UInt16(r0).Store(o);
                        Avx512BW.VL.ConvertToVector128UInt16(r1).Store(o + 8);
                        Avx512BW.VL.ConvertToVector128UInt16(r2).Store(o + 16);
                        Avx512BW.VL.ConvertToVector128UInt16(r3).Store(o + 24);
                        Avx512BW.VL.ConvertToVector128UInt16(r4).Store(o2);
                        Avx512BW.VL.ConvertToVector128UInt16(r5).Store(o2 + 8);
                        Avx512BW.VL.ConvertToVector128UInt16(r6).Store(o2 + 16);
                        Avx512BW.VL.ConvertToVector128UInt16(r7).Store(o2 + 24);
                    }

                    for (; i < count; i += 8)
                    {
                        var r = Vector256<int>.Zero;
                        var v = Vector256.Load(x + (f * stride) + i);
                        for (var step = size / 2; step > 0; step >>= 1)
                        {
                            r = Search(cuts, step, v, r);
                        }

                        Avx512BW.VL.ConvertToVector128UInt16(r).Store(plane + ((i / Lanes) * Lanes * width) + (i % Lanes));
                    }
                }
            }
        }
    }

    /// <summary>Thresholds in the register table of a feature's first search steps.</summary>
    private const int CoarseEntries = 32;

    /// <summary>
    /// A coarse step: r is a multiple of <paramref name="step"/> (at least N/32 = 2^unitShift),
    /// <c>cuts[r + step - 1]</c> is coarse entry <c>(r + step) / unit - 1</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Coarse(Vector512<float> lower, Vector512<float> upper, int step, int unitShift, Vector512<float> v, Vector512<int> r)
    {
        var entry = Vector512.ShiftRightLogical(r + Vector512.Create(step), unitShift) - Vector512<int>.One;
        var cut = Avx512F.PermuteVar16x32x2(lower, entry, upper);
        return r + (Vector512.LessThan(cut, v).AsInt32() & Vector512.Create(step));
    }

    /// <summary>
    /// One step of the search: where <c>cuts[r + step - 1] &lt; v</c>, all of the next
    /// <paramref name="step"/> thresholds are below v too, so r grows by step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Search(float* cuts, int step, Vector256<float> v, Vector256<int> r) =>
        r + (Vector256.LessThan(Avx2.GatherVector256(cuts + step - 1, r, 4), v).AsInt32() & Vector256.Create(step));

    /// <summary>Blocks of 32 pixels whose paths are kept together: 64 (a 2048-pixel chunk) in 4 KB.</summary>
    private const int Slice = 64;

    /// <summary>
    /// Tree by tree (its tables stay in L1 while the pixels pass), level by level over up to
    /// 64 blocks: the blocks' chains of dependent permutes are independent, so the core runs
    /// several at once (one block alone waited on each: 424 ns per pixel in the C model, 170-210
    /// with eight side by side). Each level's loop is compiled for its table size.
    /// </summary>
    private unsafe void Walk<TPick>(ushort* ranks, int count, int width, ushort* tables, float* acc)
        where TPick : struct, IPick
    {
        var paths = stackalloc Vector512<ushort>[Slice];
        var blocks = count / Lanes;
        var block = (nint)Lanes * width;
        for (var t = 0; t < _trees; t++)
        {
            var tree = tables + (t * _treeWords);
            for (var first = 0; first < blocks; first += Slice)
            {
                var n = Math.Min(Slice, blocks - first);
                var x = ranks + (first * block);
                Root(tree, x, block, paths, n);
                for (var level = 1; level < _depth; level++)
                {
                    var table = tree + _offsets[level];
                    switch (level)
                    {
                        case <= 5: Level<Table32, TPick>(table, x, block, paths, n); break;
                        case 6: Level<Table64, TPick>(table, x, block, paths, n); break;
                        case 7: Level<Table128, TPick>(table, x, block, paths, n); break;
                        case 8: Level<Table256, TPick>(table, x, block, paths, n); break;
                        default: throw new InvalidOperationException("deeper than the tables allow");
                    }
                }

                var leaves = tree + (2 * _sectionWords);
                var at = acc + (first * Lanes);
                switch (_depth)
                {
                    case <= 5: AddLeaves<Table32>(leaves, paths, n, at); break;
                    case 6: AddLeaves<Table64>(leaves, paths, n, at); break;
                    case 7: AddLeaves<Table128>(leaves, paths, n, at); break;
                    case 8: AddLeaves<Table256>(leaves, paths, n, at); break;
                    default: AddLeaves<Table512>(leaves, paths, n, at); break;
                }
            }
        }
    }

    /// <summary>Level 0 for n blocks: one node, so its feature's plane and index need no lookup; p = 1 where right.</summary>
    private unsafe void Root(ushort* tree, ushort* x, nint block, Vector512<ushort>* paths, int n)
    {
        var plane = x + (Lanes * (tree[_sectionWords] >> FeatureShift));
        var index = Vector512.Create(tree[0]);
        for (var b = 0; b < n; b++)
        {
            paths[b] = Vector512.GreaterThan(Vector512.Load(plane + (b * block)), index) & Vector512<ushort>.One;
        }
    }

    /// <summary>
    /// One level for n blocks: <c>p = 2p + (pixel's rank of the node's feature &gt; node's index)</c>,
    /// the level's indices at <paramref name="table"/> (its features a section further), block
    /// b's ranks at <c>x + b * block</c>.
    /// </summary>
    private unsafe void Level<TTable, TPick>(ushort* table, ushort* x, nint block, Vector512<ushort>* paths, int n)
        where TTable : struct, ITable
        where TPick : struct, IPick
    {
        var features = table + _sectionWords;
        for (var b = 0; b < n; b++)
        {
            var p = paths[b];
            var index = TTable.Lookup(table, p);
            var rank = TPick.Pick(x + (b * block), TTable.Lookup(features, p));
            var twice = p + p;
            paths[b] = Vector512.ConditionalSelect(Vector512.GreaterThan(rank, index), twice + Vector512<ushort>.One, twice);
        }
    }

    /// <summary>
    /// Adds the leaves at the paths to 32 margins a block: the upper and lower halves looked
    /// up and interleaved into floats in pixel order by two permutes.
    /// </summary>
    private unsafe void AddLeaves<TTable>(ushort* leaves, Vector512<ushort>* paths, int n, float* acc)
        where TTable : struct, ITable
    {
        var lowerHalves = leaves + _leafWords;
        var (low, high) = (InterleaveLow, InterleaveHigh);
        for (var b = 0; b < n; b++)
        {
            var p = paths[b];
            var upper = TTable.Lookup(leaves, p);
            var lower = TTable.Lookup(lowerHalves, p);
            var a = acc + (b * Lanes);
            (Vector512.Load(a) + Avx512BW.PermuteVar32x16x2(lower, low, upper).AsSingle()).Store(a);
            (Vector512.Load(a + 16) + Avx512BW.PermuteVar32x16x2(lower, high, upper).AsSingle()).Store(a + 16);
        }
    }

    /// <summary>Planes the blend tree for <paramref name="features"/> features reads.</summary>
    private static int PickWidth(int features) => features switch { <= 2 => 2, <= 4 => 4, <= 8 => 8, 9 => 9, _ => 16 };

    /// <summary>
    /// Each lane's rank of its own feature, by a tree of blends on the feature's bits over
    /// the feature planes at x, 32 words apart; one width of tree per type.
    /// </summary>
    private unsafe interface IPick
    {
        static abstract Vector512<ushort> Pick(ushort* x, Vector512<ushort> feature);
    }

    private readonly unsafe struct Pick2 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ushort> Pick(ushort* x, Vector512<ushort> feature) =>
            Blend(Set(feature, FeatureShift + 0), Vector512.Load(x + 32), Vector512.Load(x));
    }

    private readonly unsafe struct Pick4 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ushort> Pick(ushort* x, Vector512<ushort> feature)
        {
            var b0 = Set(feature, FeatureShift + 0);
            var y0 = Blend(b0, Vector512.Load(x + 32), Vector512.Load(x));
            var y1 = Blend(b0, Vector512.Load(x + 96), Vector512.Load(x + 64));
            return Blend(Set(feature, FeatureShift + 1), y1, y0);
        }
    }

    private readonly unsafe struct Pick8 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ushort> Pick(ushort* x, Vector512<ushort> feature)
        {
            var b0 = Set(feature, FeatureShift + 0);
            var b1 = Set(feature, FeatureShift + 1);
            var y0 = Blend(b0, Vector512.Load(x + 32), Vector512.Load(x));
            var y1 = Blend(b0, Vector512.Load(x + 96), Vector512.Load(x + 64));
            var y2 = Blend(b0, Vector512.Load(x + 160), Vector512.Load(x + 128));
            var y3 = Blend(b0, Vector512.Load(x + 224), Vector512.Load(x + 192));
            return Blend(Set(feature, FeatureShift + 2), Blend(b1, y3, y2), Blend(b1, y1, y0));
        }
    }

    /// <summary>Nine features (the published spectral model's): eight by <see cref="Pick8"/>, the ninth on bit 3.</summary>
    private readonly unsafe struct Pick9 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ushort> Pick(ushort* x, Vector512<ushort> feature) =>
            Blend(Set(feature, FeatureShift + 3), Vector512.Load(x + 256), Pick8.Pick(x, feature));
    }

    private readonly unsafe struct Pick16 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ushort> Pick(ushort* x, Vector512<ushort> feature) =>
            Blend(Set(feature, FeatureShift + 3), Pick8.Pick(x + 256, feature), Pick8.Pick(x, feature));
    }

    /// <summary>
    /// All-ones in the lanes where bit <paramref name="bit"/> of v is set: the bit shifted to the
    /// sign and spread by an arithmetic shift. (A compare into a mask register, or
    /// <c>(v &amp; b) == 0</c>, compiled to that plus a move of the mask back to a vector for
    /// the bitwise selects: four instructions a mask against two.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ushort> Set(Vector512<ushort> v, [ConstantExpected(Min = 0, Max = 15)] int bit) =>
        Vector512.ShiftLeft(v, 15 - bit);

    /// <summary>
    /// All-ones in the lanes where bit <paramref name="bit"/> of v is set, as a vector: the
    /// bit shifted to the sign and spread by an arithmetic shift. For the table selects on p's
    /// bits, where the same masks serve the index and the feature lookups and the JIT keeps
    /// vectors, not mask registers, from one use to the next.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ushort> Spread(Vector512<ushort> v, [ConstantExpected(Min = 0, Max = 15)] int bit) =>
        Vector512.ShiftRightArithmetic(Vector512.ShiftLeft(v, 15 - bit).AsInt16(), 15).AsUInt16();

    /// <summary>b where the sign bit of <paramref name="sign"/> is set, else a (a blend on a mask register).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ushort> Blend(Vector512<ushort> sign, Vector512<ushort> b, Vector512<ushort> a) =>
        Avx512BW.BlendVariable(a, b, sign);

    /// <summary>Where a feature's bit k sits in its table entry: the top four bits, so bit 3's mask is one shift.</summary>
    private const int FeatureShift = 12;

    /// <summary><c>table[p]</c> per lane, for one table size.</summary>
    private unsafe interface ITable
    {
        static abstract Vector512<ushort> Lookup(ushort* table, Vector512<ushort> p);
    }

    /// <summary>Up to 32 entries: one permute.</summary>
    private readonly unsafe struct Table32 : ITable
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ushort> Lookup(ushort* table, Vector512<ushort> p) => Avx512BW.PermuteVar32x16(Vector512.Load(table), p);
    }

    /// <summary>64 entries: one two-register permute.</summary>
    private readonly unsafe struct Table64 : ITable
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ushort> Lookup(ushort* table, Vector512<ushort> p) =>
            Avx512BW.PermuteVar32x16x2(Vector512.Load(table), p, Vector512.Load(table + 32));
    }

    /// <summary>128 entries: two 64-entry permutes blended on bit 6 of p.</summary>
    private readonly unsafe struct Table128 : ITable
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ushort> Lookup(ushort* table, Vector512<ushort> p) =>
            Vector512.ConditionalSelect(Spread(p, 6), Table64.Lookup(table + 64, p), Table64.Lookup(table, p));
    }

    /// <summary>256 entries: two 128-entry lookups blended on bit 7.</summary>
    private readonly unsafe struct Table256 : ITable
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ushort> Lookup(ushort* table, Vector512<ushort> p) =>
            Vector512.ConditionalSelect(Spread(p, 7), Table128.Lookup(table + 128, p), Table128.Lookup(table, p));
    }

    /// <summary>512 entries: two 256-entry lookups blended on bit 8.</summary>
    private readonly unsafe struct Table512 : ITable
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ushort> Lookup(ushort* table, Vector512<ushort> p) =>
            Vector512.ConditionalSelect(Spread(p, 8), Table256.Lookup(table + 256, p), Table256.Lookup(table, p));
    }

    /// <summary>Words k of the lower and upper halves side by side for k = 0 .. 15 (pixels 0-15 as floats).</summary>
    private static Vector512<ushort> InterleaveLow => Vector512.Create(
        (ushort)0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39, 8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47);

    /// <summary>The same for pixels 16-31.</summary>
    private static Vector512<ushort> InterleaveHigh => Vector512.Create(
        (ushort)16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21, 53, 22, 54, 23, 55, 24, 56, 25, 57, 26, 58, 27, 59, 28, 60, 29, 61, 30, 62, 31, 63);
}
