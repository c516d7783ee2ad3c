using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Trees;

/// <summary>
/// A summed ensemble (XGBoost's 200 trees) evaluated sixteen trees at a time for one pixel,
/// each tree in a vector lane, instead of many pixels at a time through one tree.
/// <para>
/// Why: a pixel-per-lane walk gathers twice per level, the node and then the pixel's value
/// of the node's feature. Here the pixel's features sit in one register, so that value is
/// a register permute, and only the node is gathered; the first three levels of the sixteen
/// trees (7 nodes each) sit in registers too, so they need no gather at all.
/// </para>
/// <para>
/// For one gather to fetch a whole node, a node is a single 32-bit word: its threshold as a
/// rank among all distinct thresholds of its feature, shifted left by 4, or-ed with the
/// feature. A pixel's feature value becomes the count of that feature's thresholds below
/// it, shifted alike, once per pixel by binary search. Then <c>x &gt; threshold</c> holds
/// exactly when <c>count &gt; rank</c>, and that is the compare of the two words, whatever
/// the low four bits hold; the register permute that picks the pixel's word reads only
/// those four bits, the feature. So the walk takes the same branches as the float compares,
/// bit for bit.
/// </para>
/// <para>
/// Every tree is padded to a complete tree of the forest's depth (a leaf above the bottom
/// fills all bottom slots under it), laid out level by level with the sixteen trees of a
/// group side by side: at level L, tree lane l's node on path p is at <c>(l &lt;&lt; L) | p</c>,
/// and a step is <c>q = 2q + right</c>. The leaves come out as sixteen trees per pixel; a
/// 16 x 16 transpose turns sixteen pixels' worth into sixteen pixels per tree, added in
/// tree order in float32 as XGBoost adds them, so the margins equal the other kernels' bit
/// for bit.
/// </para>
/// <para>
/// Without AVX-512 (AVX2 machines) the same runs eight trees per vector (<see cref="_width"/>):
/// a pixel's word of a feature is a permute of the lower eight words, or of the upper eight
/// blended in where the node's feature is 8 or more; only level 0 comes from a register,
/// every other level is one 8-lane gather, and an 8 x 8 transpose adds the leaves in tree
/// order. On this project's Xeon with AVX-512 switched off, the published spectral forest's
/// trees took 752-758 ns per pixel on one thread this way, 1,348-1,355 walked with gathers
/// pixel by pixel (400 with AVX-512).
/// </para>
/// </summary>
internal sealed class LaneForest
{
    /// <summary>Pixels per call are a multiple of this; also the words per pixel and the trees per group with AVX-512.</summary>
    public const int Lanes = 16;

    /// <summary>Trees per group with AVX2.</summary>
    private const int Avx2Width = 8;

    private const int FeatureBits = 4;

    /// <summary>Levels taken from register tables: 1 + 2 + 4 node vectors per group.</summary>
    private const int TableLevels = 3;

    /// <summary>Per feature, its distinct thresholds ascending, padded with +inf to a power of two (at least one pad).</summary>
    private readonly float[][] _cuts;

    /// <summary>Per group, levels 0 .. depth-1 one after the other, level L with 16 &lt;&lt; L words.</summary>
    private readonly int[] _nodes;

    /// <summary>Per group, 16 &lt;&lt; depth leaf values.</summary>
    private readonly float[] _leaves;

    private readonly int _depth;
    private readonly int _trees;

    /// <summary>Trees per group (vector lanes of the walk): 16 with AVX-512, 8 with AVX2.</summary>
    private readonly int _width;

    private LaneForest(float[][] cuts, int[] nodes, float[] leaves, int depth, int trees, int width)
    {
        _cuts = cuts;
        _nodes = nodes;
        _leaves = leaves;
        _depth = depth;
        _trees = trees;
        _width = width;
    }

    /// <summary>Fewer trees than this would leave most lanes of a vector empty.</summary>
    private const int MinTrees = 8;

    private int Groups => GroupsOf(_trees, _width);

    private int NodesPerGroup => NodesPerGroupOf(_depth, _width);

    private int LeavesPerGroup => LeavesPerGroupOf(_depth, _width);

    private static int GroupsOf(int trees, int width) => (trees + width - 1) / width;

    private static int NodesPerGroupOf(int depth, int width) => width * ((1 << depth) - 1);

    private static int LeavesPerGroupOf(int depth, int width) => width << depth;

    /// <summary>Whether the processor runs the sixteen-lane walk (AVX-512 F with VL).</summary>
    public static bool IsHardwareSupported => Avx512F.VL.IsSupported;

    /// <summary>Whether the processor runs a walk: sixteen lanes, or else eight with AVX2.</summary>
    public static bool RunsHere => IsHardwareSupported || Avx2.IsSupported;

    /// <summary>
    /// The lane layout of a summed ensemble, or null where it does not suit: fewer than
    /// <see cref="MinTrees"/> trees, more than 16 features, a depth outside 3 .. 12, fewer
    /// than a quarter of the leaves complete trees of that depth would have (our own 16-leaf
    /// trees of depth 12 ran no faster here: 5.95 against 5.99 Mpx/s), a NaN threshold, or
    /// more ranks per feature than the word holds.
    /// </summary>
    public static LaneForest? TryCreate(TreeEnsemble ensemble) => TryCreate(ensemble, IsHardwareSupported ? Lanes : Avx2Width);

    /// <summary>The lane layout for <paramref name="width"/> (16 or 8) trees per vector; null as above.</summary>
    internal static LaneForest? TryCreate(TreeEnsemble ensemble, int width)
    {
        var depth = ensemble.MaxDepth;
        if (ensemble.Aggregation == Aggregation.Average || ensemble.TreeCount < MinTrees
            || ensemble.FeatureCount > 1 << FeatureBits || depth < TableLevels || depth > 12)
        {
            return null;
        }

        // Every tree walks the forest's full depth here; trees with far fewer leaves than
        // that (FastTree's 16-leaf trees of depth 12) end early in the pixel-per-lane walk.
        if ((long)ensemble.TreeCount << depth > 4L * ensemble.Leaves.Length)
        {
            return null;
        }

        if (ThresholdRanks.TryCreate(ensemble, (1 << (31 - FeatureBits - 1)) - 1) is not { } thresholds)
        {
            return null;
        }

        var cuts = thresholds.Cuts;
        var (nodesPerGroup, leavesPerGroup) = (NodesPerGroupOf(depth, width), LeavesPerGroupOf(depth, width));
        var nodes = new int[GroupsOf(ensemble.TreeCount, width) * nodesPerGroup];
        var leaves = new float[GroupsOf(ensemble.TreeCount, width) * leavesPerGroup];
        for (var t = 0; t < ensemble.TreeCount; t++)
        {
            var g = t / width;
            var lane = t % width;
            Fill(ensemble.Roots[t], 0, 0);

            void Fill(int node, int level, int path)
            {
                if (node >= 0)
                {
                    var split = ensemble.Nodes[node];
                    var rank = thresholds.IndexOf(split);
                    nodes[(g * nodesPerGroup) + LevelStart(level, width) + (lane << level) + path] = (rank << FeatureBits) | split.Feature;
                    Fill(split.Left, level + 1, 2 * path);
                    Fill(split.Right, level + 1, (2 * path) + 1);
                    return;
                }

                // A leaf above the bottom: the slots under it keep word 0 (either way is
                // right) and every bottom slot under it holds its value.
                var below = depth - level;
                var first = path << below;
                for (var k = 0; k < 1 << below; k++)
                {
                    leaves[(g * leavesPerGroup) + (lane << depth) + first + k] = ensemble.Leaves[~node];
                }
            }
        }

        return new LaneForest(cuts, nodes, leaves, depth, ensemble.TreeCount, width);
    }

    /// <summary>Offset of level <paramref name="level"/> in a group: width * (2^level - 1).</summary>
    private static int LevelStart(int level, int width) => width * ((1 << level) - 1);

    /// <summary>
    /// Adds every tree's leaf, in tree order, to <c>dest[0 .. count)</c> (which holds the
    /// starting margins) for pixels whose NaN-free features are in planes (feature f of pixel
    /// i at <c>planes[f * stride + i]</c>); count a multiple of 16.
    /// </summary>
    public unsafe void Accumulate(ReadOnlySpan<float> planes, int stride, int count, Span<float> dest)
    {
        if (count % Lanes != 0 || count > stride || dest.Length < count || planes.Length < ((_cuts.Length - 1) * stride) + count)
        {
            throw new ArgumentException("count must be a multiple of 16 and fit the planes and destination");
        }

        if (count == 0)
        {
            return;
        }

        // 64-byte aligned: one pixel's words are one vector.
        var rented = ArrayPool<int>.Shared.Rent((count * Lanes) + Lanes);
        try
        {
            fixed (int* raw = rented)
            {
                var words = (int*)(((nint)raw + 63) & ~(nint)63);
                Rank(planes, stride, count, words);
                if (_width == Lanes)
                {
                    Walk(words, count, dest);
                }
                else
                {
                    WalkAvx2(words, count, dest);
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Each pixel's 16 words: for feature f, the count of its thresholds below the value,
    /// shifted by 4 (the words past the features are left as they are: no node reads them).
    /// A branch-free binary search, 64 pixels at a time (<see cref="ThresholdRanks.Search64"/>).
    /// </summary>
    private unsafe void Rank(ReadOnlySpan<float> planes, int stride, int count, int* words)
    {
        var ranks = stackalloc int[64];
        fixed (float* x = planes)
        {
            for (var f = 0; f < _cuts.Length; f++)
            {
                fixed (float* cuts = _cuts[f])
                {
                    var top = _cuts[f].Length / 2;
                    var i = 0;
                    for (; i + 64 <= count; i += 64)
                    {
                        new Span<int>(ranks, 64).Clear();
                        ThresholdRanks.Search64(cuts, top, x + (f * stride) + i, ranks);
                        for (var k = 0; k < 64; k += 8)
                        {
                            Vector256.ShiftLeft(Vector256.Load(ranks + k), FeatureBits).Store(ranks + k);
                        }

                        Spread(ranks, 64, words + (i * Lanes) + f);
                    }

                    for (; i < count; i += 8)
                    {
                        var r = Vector256<int>.Zero;
                        var v = Vector256.Load(x + (f * stride) + i);
                        for (var step = top; step > 0; step >>= 1)
                        {
                            r = ThresholdRanks.Search(cuts, step, v, r);
                        }

                        Vector256.ShiftLeft(r, FeatureBits).Store(ranks);
                        Spread(ranks, 8, words + (i * Lanes) + f);
                    }
                }
            }
        }
    }

    /// <summary>Word k of <paramref name="ranks"/> to pixel k's slot: <c>slot[k * 16]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Spread(int* ranks, int n, int* slot)
    {
        for (var k = 0; k < n; k++)
        {
            slot[k * Lanes] = ranks[k];
        }
    }

    private unsafe void Walk(int* words, int count, Span<float> dest)
    {
        var rows = stackalloc float[Lanes * Lanes];
        var depth = _depth;
        var upperHalf = Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1);
        fixed (int* nodeBase = _nodes)
        fixed (float* leafBase = _leaves)
        fixed (float* acc = dest)
        {
            for (var g = 0; g < Groups; g++)
            {
                var group = nodeBase + (g * NodesPerGroup);
                var leaves = leafBase + (g * LeavesPerGroup);
                var t0 = Vector512.Load(group);
                var t1a = Vector512.Load(group + LevelStart(1, Lanes));
                var t1b = Vector512.Load(group + LevelStart(1, Lanes) + 16);
                var t2a = Vector512.Load(group + LevelStart(2, Lanes));
                var t2b = Vector512.Load(group + LevelStart(2, Lanes) + 16);
                var t2c = Vector512.Load(group + LevelStart(2, Lanes) + 32);
                var t2d = Vector512.Load(group + LevelStart(2, Lanes) + 48);
                var trees = Math.Min(Lanes, _trees - (g * Lanes));
                for (var i0 = 0; i0 < count; i0 += Lanes)
                {
                    // Eight pixels side by side: their chains of dependent gathers overlap.
                    for (var j = 0; j < Lanes; j += 8)
                    {
                        var w = words + ((i0 + j) * Lanes);
                        var (p0, p1, p2, p3) = (Vector512.Load(w), Vector512.Load(w + Lanes), Vector512.Load(w + (2 * Lanes)), Vector512.Load(w + (3 * Lanes)));
                        var (p4, p5, p6, p7) = (Vector512.Load(w + (4 * Lanes)), Vector512.Load(w + (5 * Lanes)), Vector512.Load(w + (6 * Lanes)), Vector512.Load(w + (7 * Lanes)));
                        var q0 = Top(p0, t0, t1a, t1b, t2a, t2b, t2c, t2d, upperHalf);
                        var q1 = Top(p1, t0, t1a, t1b, t2a, t2b, t2c, t2d, upperHalf);
                        var q2 = Top(p2, t0, t1a, t1b, t2a, t2b, t2c, t2d, upperHalf);
                        var q3 = Top(p3, t0, t1a, t1b, t2a, t2b, t2c, t2d, upperHalf);
                        var q4 = Top(p4, t0, t1a, t1b, t2a, t2b, t2c, t2d, upperHalf);
                        var q5 = Top(p5, t0, t1a, t1b, t2a, t2b, t2c, t2d, upperHalf);
                        var q6 = Top(p6, t0, t1a, t1b, t2a, t2b, t2c, t2d, upperHalf);
                        var q7 = Top(p7, t0, t1a, t1b, t2a, t2b, t2c, t2d, upperHalf);
                        for (var level = TableLevels; level < depth; level++)
                        {
                            var at = group + LevelStart(level, Lanes);
                            q0 = Next(p0, Gather(at, q0), q0);
                            q1 = Next(p1, Gather(at, q1), q1);
                            q2 = Next(p2, Gather(at, q2), q2);
                            q3 = Next(p3, Gather(at, q3), q3);
                            q4 = Next(p4, Gather(at, q4), q4);
                            q5 = Next(p5, Gather(at, q5), q5);
                            q6 = Next(p6, Gather(at, q6), q6);
                            q7 = Next(p7, Gather(at, q7), q7);
                        }

                        var r = rows + (j * Lanes);
                        Gather(leaves, q0).Store(r);
                        Gather(leaves, q1).Store(r + Lanes);
                        Gather(leaves, q2).Store(r + (2 * Lanes));
                        Gather(leaves, q3).Store(r + (3 * Lanes));
                        Gather(leaves, q4).Store(r + (4 * Lanes));
                        Gather(leaves, q5).Store(r + (5 * Lanes));
                        Gather(leaves, q6).Store(r + (6 * Lanes));
                        Gather(leaves, q7).Store(r + (7 * Lanes));
                    }

                    AddColumns(rows, trees, acc + i0);
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Walk"/> with AVX2, eight trees per group: four pixels side by side (their
    /// pixel words are read from L1 by the permutes: AVX2's sixteen registers hold no more),
    /// level 0 from a register, the others and the leaves by 8-lane gathers.
    /// </summary>
    private unsafe void WalkAvx2(int* words, int count, Span<float> dest)
    {
        const int Width = Avx2Width;
        var rows = stackalloc float[Width * Width];
        var depth = _depth;
        var wide = _cuts.Length > Width;
        fixed (int* nodeBase = _nodes)
        fixed (float* leafBase = _leaves)
        fixed (float* acc = dest)
        {
            for (var g = 0; g < Groups; g++)
            {
                var group = nodeBase + (g * NodesPerGroup);
                var leaves = leafBase + (g * LeavesPerGroup);
                var roots = Vector256.Load(group);
                var trees = Math.Min(Width, _trees - (g * Width));
                for (var i0 = 0; i0 < count; i0 += Width)
                {
                    for (var j = 0; j < Width; j += 4)
                    {
                        var w = words + ((i0 + j) * Lanes);
                        var q0 = Next(w, roots, Vector256<int>.Indices, wide);
                        var q1 = Next(w + Lanes, roots, Vector256<int>.Indices, wide);
                        var q2 = Next(w + (2 * Lanes), roots, Vector256<int>.Indices, wide);
                        var q3 = Next(w + (3 * Lanes), roots, Vector256<int>.Indices, wide);
                        for (var level = 1; level < depth; level++)
                        {
                            var at = group + LevelStart(level, Width);
                            q0 = Next(w, Avx2.GatherVector256(at, q0, 4), q0, wide);
                            q1 = Next(w + Lanes, Avx2.GatherVector256(at, q1, 4), q1, wide);
                            q2 = Next(w + (2 * Lanes), Avx2.GatherVector256(at, q2, 4), q2, wide);
                            q3 = Next(w + (3 * Lanes), Avx2.GatherVector256(at, q3, 4), q3, wide);
                        }

                        var r = rows + (j * Width);
                        Avx2.GatherVector256(leaves, q0, 4).Store(r);
                        Avx2.GatherVector256(leaves, q1, 4).Store(r + Width);
                        Avx2.GatherVector256(leaves, q2, 4).Store(r + (2 * Width));
                        Avx2.GatherVector256(leaves, q3, 4).Store(r + (3 * Width));
                    }

                    AddColumns8(rows, trees, acc + i0);
                }
            }
        }
    }

    /// <summary>
    /// One level for eight trees: <c>q = 2q + (pixel's word of the node's feature &gt; node)</c>,
    /// the word permuted from the pixel's lower eight words, or from its upper eight where
    /// the node's feature is 8 or more (<paramref name="wide"/>: the forest has such features).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Next(int* pixel, Vector256<int> node, Vector256<int> q, bool wide)
    {
        var value = Avx2.PermuteVar8x32(Vector256.Load(pixel), node);
        if (wide)
        {
            // Bit 3 of the feature, moved to the sign bit, picks the upper word.
            var upper = Avx2.PermuteVar8x32(Vector256.Load(pixel + Avx2Width), node);
            value = Avx.BlendVariable(value.AsSingle(), upper.AsSingle(), Vector256.ShiftLeft(node, 28).AsSingle()).AsInt32();
        }

        return q + q + Vector256.ShiftRightLogical(node - value, 31);
    }

    /// <summary>
    /// <c>acc[j] += rows[j * 8 + t]</c> for t = 0 .. trees-1 in that order, j = 0 .. 7: an
    /// 8 x 8 transpose (interleave 32-bit, then 64-bit, then 128-bit halves), then one add
    /// per tree.
    /// </summary>
    internal static unsafe void AddColumns8(float* rows, int trees, float* acc)
    {
        const int W = Avx2Width;
        var (t0, t1) = (Avx.UnpackLow(Vector256.Load(rows), Vector256.Load(rows + W)), Avx.UnpackHigh(Vector256.Load(rows), Vector256.Load(rows + W)));
        var (t2, t3) = (Avx.UnpackLow(Vector256.Load(rows + (2 * W)), Vector256.Load(rows + (3 * W))), Avx.UnpackHigh(Vector256.Load(rows + (2 * W)), Vector256.Load(rows + (3 * W))));
        var (t4, t5) = (Avx.UnpackLow(Vector256.Load(rows + (4 * W)), Vector256.Load(rows + (5 * W))), Avx.UnpackHigh(Vector256.Load(rows + (4 * W)), Vector256.Load(rows + (5 * W))));
        var (t6, t7) = (Avx.UnpackLow(Vector256.Load(rows + (6 * W)), Vector256.Load(rows + (7 * W))), Avx.UnpackHigh(Vector256.Load(rows + (6 * W)), Vector256.Load(rows + (7 * W))));

        // u0: columns 0 and 4 of rows 0-3 (one per 128-bit half), u1: 1 and 5, u2: 2 and 6, u3: 3 and 7; u4-u7 the same of rows 4-7.
        var (u0, u1, u2, u3) = (Avx.Shuffle(t0, t2, 0x44), Avx.Shuffle(t0, t2, 0xEE), Avx.Shuffle(t1, t3, 0x44), Avx.Shuffle(t1, t3, 0xEE));
        var (u4, u5, u6, u7) = (Avx.Shuffle(t4, t6, 0x44), Avx.Shuffle(t4, t6, 0xEE), Avx.Shuffle(t5, t7, 0x44), Avx.Shuffle(t5, t7, 0xEE));
        var (c0, c1, c2, c3) = (Avx.Permute2x128(u0, u4, 0x20), Avx.Permute2x128(u1, u5, 0x20), Avx.Permute2x128(u2, u6, 0x20), Avx.Permute2x128(u3, u7, 0x20));
        var (c4, c5, c6, c7) = (Avx.Permute2x128(u0, u4, 0x31), Avx.Permute2x128(u1, u5, 0x31), Avx.Permute2x128(u2, u6, 0x31), Avx.Permute2x128(u3, u7, 0x31));
        var sum = Vector256.Load(acc);
        if (trees == W)
        {
            sum = sum + c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7;
        }
        else
        {
            var c = stackalloc Vector256<float>[] { c0, c1, c2, c3, c4, c5, c6, c7 };
            for (var t = 0; t < trees; t++)
            {
                sum += c[t];
            }
        }

        sum.Store(acc);
    }

    /// <summary>The first three levels for sixteen trees, from the register tables; returns q at level 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Top(
        Vector512<int> pixel, Vector512<int> t0, Vector512<int> t1a, Vector512<int> t1b,
        Vector512<int> t2a, Vector512<int> t2b, Vector512<int> t2c, Vector512<int> t2d, Vector512<int> upperHalf)
    {
        var q = Next(pixel, t0, Vector512<int>.Indices);
        q = Next(pixel, Avx512F.PermuteVar16x32x2(t1a, q, t1b), q);

        // Level 2 has 64 slots: trees 0-7 in the first two tables, 8-15 in the other two.
        var node = Vector512.ConditionalSelect(upperHalf, Avx512F.PermuteVar16x32x2(t2c, q, t2d), Avx512F.PermuteVar16x32x2(t2a, q, t2b));
        return Next(pixel, node, q);
    }

    /// <summary>
    /// Sixteen words <c>at[q[l]]</c> by two 8-lane gathers (.NET has no 16-lane one). The
    /// halves are joined by an insert into the lower one: <c>Vector512.Create(lower, upper)</c>
    /// compiled to inserts into a stack slot carried from one call to the next, which chained
    /// every gather to the one before.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<int> Gather(int* at, Vector512<int> q) =>
        Avx512F.InsertVector256(Avx2.GatherVector256(at, q.GetLower(), 4).ToVector512Unsafe(), Avx2.GatherVector256(at, q.GetUpper(), 4), 1);

    /// <inheritdoc cref="Gather(int*, Vector512{int})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Gather(float* at, Vector512<int> q) =>
        Avx512F.InsertVector256(Avx2.GatherVector256(at, q.GetLower(), 4).ToVector512Unsafe(), Avx2.GatherVector256(at, q.GetUpper(), 4), 1);

    /// <summary>One level for sixteen trees: <c>q = 2q + (pixel's word of the node's feature &gt; node)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Next(Vector512<int> pixel, Vector512<int> node, Vector512<int> q) =>
        q + q + Vector512.ShiftRightLogical(node - Avx512F.PermuteVar16x32(pixel, node), 31);

    /// <summary>
    /// <c>acc[j] += rows[j * 16 + t]</c> for t = 0 .. trees-1 in that order, j = 0 .. 15: a
    /// 16 x 16 transpose in registers (interleave 32-bit, then 64-bit, then 128-bit lanes
    /// twice), then one add per tree.
    /// </summary>
    internal static unsafe void AddColumns(float* rows, int trees, float* acc)
    {
        // b(4k + m) holds columns m, m + 4, m + 8, m + 12 of rows 4k .. 4k+3, one per 128-bit lane.
        var (b0, b1, b2, b3) = Quad(rows);
        var (b4, b5, b6, b7) = Quad(rows + (4 * Lanes));
        var (b8, b9, b10, b11) = Quad(rows + (8 * Lanes));
        var (b12, b13, b14, b15) = Quad(rows + (12 * Lanes));
        var (c0, c4, c8, c12) = Columns(b0, b4, b8, b12);
        var (c1, c5, c9, c13) = Columns(b1, b5, b9, b13);
        var (c2, c6, c10, c14) = Columns(b2, b6, b10, b14);
        var (c3, c7, c11, c15) = Columns(b3, b7, b11, b15);
        var sum = Vector512.Load(acc);
        if (trees == Lanes)
        {
            sum = sum + c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15;
        }
        else
        {
            var c = stackalloc Vector512<float>[] { c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15 };
            for (var t = 0; t < trees; t++)
            {
                sum += c[t];
            }
        }

        sum.Store(acc);
    }

    /// <summary>Rows r .. r+3 regrouped: vector m holds columns m, m + 4, m + 8, m + 12 of the four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Quad(float* r)
    {
        var (r0, r1, r2, r3) = (Vector512.Load(r), Vector512.Load(r + Lanes), Vector512.Load(r + (2 * Lanes)), Vector512.Load(r + (3 * Lanes)));
        var a0 = Avx512F.UnpackLow(r0, r1).AsDouble();
        var a1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        var a2 = Avx512F.UnpackLow(r2, r3).AsDouble();
        var a3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        return (Avx512F.UnpackLow(a0, a2).AsSingle(), Avx512F.UnpackHigh(a0, a2).AsSingle(), Avx512F.UnpackLow(a1, a3).AsSingle(), Avx512F.UnpackHigh(a1, a3).AsSingle());
    }

    /// <summary>From the four quads' vector m: columns m, m + 4, m + 8, m + 12 of all sixteen rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Columns(
        Vector512<float> q0, Vector512<float> q1, Vector512<float> q2, Vector512<float> q3)
    {
        var d0 = Avx512F.Shuffle4x128(q0, q1, 0x88);
        var d1 = Avx512F.Shuffle4x128(q0, q1, 0xDD);
        var e0 = Avx512F.Shuffle4x128(q2, q3, 0x88);
        var e1 = Avx512F.Shuffle4x128(q2, q3, 0xDD);
        return (Avx512F.Shuffle4x128(d0, e0, 0x88), Avx512F.Shuffle4x128(d1, e1, 0x88), Avx512F.Shuffle4x128(d0, e0, 0xDD), Avx512F.Shuffle4x128(d1, e1, 0xDD));
    }
}
