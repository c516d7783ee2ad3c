using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Trees;

/// <summary>
/// A summed ensemble of trees up to 9 deep (XGBoost's 200 trees of depth 9) evaluated
/// 64 pixels at a time in byte lanes, with every lookup a register permute and no gather.
/// <para>
/// Why: on this project's AMD EPYC (Zen 5) a gather costs about half a nanosecond per element
/// fetched, whatever its width (8 x 32 bits 3.9 ns, 4 x 64 bits 1.95 ns, 16 x 32 bits 6.1 ns,
/// measured in C), while 512-bit permutes and blends issue one or two a cycle. The
/// trees-in-lanes walk (<see cref="LaneForest"/>) fetches seven elements per tree and pixel and
/// is bound by that (the published spectral forest: 447-465 ns per pixel on one thread).
/// </para>
/// <para>
/// How: a feature value becomes its rank, the count of the feature's distinct thresholds
/// below it (so <c>x &gt; threshold</c> holds exactly when <c>rank &gt; threshold's index</c>, as
/// in <see cref="LaneForest"/>), kept as two byte planes, upper and lower. One tree at a time
/// walks the pixels level by level, its path <c>p</c> per byte lane: level L's thresholds'
/// indices (both bytes) and features are tables of <c>2^L</c> bytes, looked up by
/// <c>vpermb</c> (64 entries) or <c>vpermt2b</c> (128, two blended for 256); the pixel's two
/// bytes of the node's feature are picked from the planes by a tree of blends on the feature's
/// bits; the two-byte compare is <c>upper - index's upper + (lower &gt; index's lower) &gt; 0</c>.
/// The last level's decision picks among four 128-entry tables of each leaf byte (the path's
/// bit 7 and the decision), and the four bytes are interleaved into floats and added to the
/// margins tree by tree in float32, as XGBoost adds them, so the margins equal the other
/// kernels' bit for bit. Byte lanes took 16-bit ones' place: twice the pixels per instruction
/// for about 1.5 times the instructions per level, and a quarter of the leaves' (BenchmarkDotNet,
/// published spectral, 2048 pixels: 586-614 us with 16-bit lanes).
/// </para>
/// <para>
/// The first six levels (up to 512 nodes for 16 trees) run 16 trees side by side instead,
/// four pixels a vector (<see cref="Top"/>): there the pixel's rank bytes of a lane's feature
/// are one permute of the four pixels' bytes, not a tree of 16 blends; a level costs 16 us
/// per 2048 pixels that way against 43 (BenchmarkDotNet, all 200 trees), 386-411 us in all
/// against 423-443 without. Level 5 joined them later, its 512-entry tables in 24 registers
/// (<see cref="TopTable512"/>): the walk took 124.6-135.9 ns per pixel at best against
/// 128.4-137.1, its median lower in six of eight alternating rounds (one thread, 4,096-pixel
/// calls).
/// </para>
/// <para>
/// Every loop loads its tables into registers before it starts (<see cref="ITable{TSelf}"/>):
/// the JIT re-read them for every block and vector (twelve loads a vector for Top's 256-entry
/// tables), and the loads, with the picks' planes, kept the load ports busy: 199-210 ns per
/// pixel before, 152-159 after (published spectral, clear-scene chunks, on the EPYC).
/// Tried and no faster: Top at eight trees by eight pixels down to level 5; levels 5 and 6
/// two trees by 32 pixels, the rank bytes permuted out of pixel-major groups (3 % less);
/// levels 5-8 of a block in one pass (a quarter slower: one long chain per block); the picks
/// as ternary-logic selects on whole-byte masks (an in-lane shuffle of the feature) instead
/// of blends on mask registers (the trees 174.8 against 168.4 ns per pixel at best, 189.7
/// against 174.8 median, ten alternating runs: the JIT copies registers for the destructive
/// <c>vpternlogd</c>); two trees a pass over a block, sharing its rank planes in registers (a
/// C model: 22.5 cycles per tree, level and block against 14-15). Nor can the sum stop early
/// for a mask: late trees still have leaves up to 0.5, and on the clear scene a pixel's side
/// of the threshold is certain only after 177 of the 200 trees on average.
/// </para>
/// <para>
/// The blocks' paths are kept in memory and each level runs over a slice of 16 blocks: the
/// chain of dependent permutes of one block is long, and the core overlaps several blocks'
/// (a C model: 424 ns per pixel with one block at a time, 170-210 with eight). Not more: a
/// tree's passes over a slice read its rank planes (1,152 bytes a block), paths, margins and
/// tables again level by level, and with 32 blocks (about 56 KB) they no longer fit the 48 KB
/// L1 cache: levels 5 and 6 then drew 11.6 % of perf's samples each against level 7's 7.9
/// (8.4 each with 16 blocks), and with 16 the walk took 137.4 ns per pixel against 146.2 at
/// best (one thread, 4,096-pixel calls, eight alternating rounds, 16 faster in seven).
/// </para>
/// <para>
/// Its stack buffers are not zeroed (every one is written before it is read): <see cref="Last"/>'s
/// 3.2 KB a tree and slice, 625 bytes per pixel, drew 2.2 % of perf's samples in memset.
/// </para>
/// </summary>
[SkipLocalsInit]
internal sealed class PermuteForest : IRankForest
{
    /// <summary>Pixels per vector; calls take a multiple of this.</summary>
    public const int Lanes = 64;

    /// <inheritdoc/>
    public int CallPixels => Lanes;

    private const int FeatureShift = ThresholdRanks.FeatureShift;

    /// <summary>Bytes of a level's table (one of upper index bytes, lower index bytes, features): vpermb reads 64.</summary>
    private static int TableBytes(int level) => Math.Max(64, 1 << level);

    /// <summary>Per leaf byte plane: four 128-entry tables, for (bit 7 of the last path, the last decision).</summary>
    private const int LeafPlaneBytes = 4 * 128;

    /// <summary>
    /// Per feature, its distinct thresholds ascending, padded with +inf to a power of two (at
    /// least one pad), then <see cref="WindowFloats"/> more +inf so that a <see cref="Window"/>
    /// read from any rank stays inside.
    /// </summary>
    private readonly float[][] _cuts;

    /// <summary>Per feature, thresholds N/32 - 1, 2N/32 - 1, ... of its N cuts (+inf where N &lt; 64: unused).</summary>
    private readonly float[][] _coarse;

    /// <summary>
    /// Per feature, the thresholds of the search steps after the coarse ones, level by level
    /// (see <see cref="MediumLevels"/>): level k's 2^k entries at 32 (2^(k-5) - 1).
    /// </summary>
    private readonly float[][] _medium;

    /// <summary>
    /// Per tree <see cref="_treeBytes"/> bytes: for each level top .. depth-1 (at
    /// <see cref="_offsets"/>; the levels above are in <see cref="_groupTables"/> only) its
    /// indices' upper bytes, lower bytes and features (shifted by <see cref="FeatureShift"/>),
    /// <see cref="TableBytes"/> each; then the leaves' four byte planes, lowest first,
    /// <see cref="LeafPlaneBytes"/> each.
    /// </summary>
    private readonly byte[] _tables;

    /// <summary>
    /// Per group of 16 trees, levels 0 .. top-1 side by side for <see cref="Top"/>: per level its
    /// indices' upper bytes, lower bytes and features (plain), <see cref="TopTableBytes"/> each,
    /// tree t's node at path p at entry <c>(t &lt;&lt; level) | p</c>.
    /// </summary>
    private readonly byte[] _groupTables;

    private readonly int _depth;
    private readonly int _top;
    private readonly int _trees;
    private readonly int _features;
    private readonly int _leafOffset;
    private readonly int _treeBytes;
    private readonly int[] _offsets;

    private PermuteForest(float[][] cuts, byte[] tables, byte[] groupTables, int depth, int trees, int features)
    {
        _cuts = cuts.Select(c => c.Concat(Enumerable.Repeat(float.PositiveInfinity, WindowFloats)).ToArray()).ToArray();
        _coarse = cuts.Select(c => Enumerable.Range(1, CoarseEntries).Select(k => c.Length >= 2 * CoarseEntries ? c[(k * (c.Length / CoarseEntries)) - 1] : float.PositiveInfinity).ToArray()).ToArray();
        _medium = cuts.Select(Medium).ToArray();
        _tables = tables;
        _groupTables = groupTables;
        _depth = depth;
        _top = TopOf(depth);
        _trees = trees;
        _features = features;
        (_offsets, _leafOffset, _treeBytes) = Layout(depth);
    }

    /// <summary>Whether the processor runs it: AVX-512 with byte permutes (VBMI) and byte lanes (BW), 256-bit gathers for the ranks.</summary>
    public static bool RunsHere => Avx512Vbmi.IsSupported && Avx512BW.IsSupported && Avx512BW.VL.IsSupported && Avx2.IsSupported;

    private static (int[] Offsets, int Leaves, int Tree) Layout(int depth)
    {
        var offsets = new int[depth];
        var at = 0;
        for (var level = TopOf(depth); level < depth; level++)
        {
            offsets[level] = at;
            at += 3 * TableBytes(level);
        }

        return (offsets, at, at + (4 * LeafPlaneBytes));
    }

    /// <summary>
    /// The layout of a summed ensemble, or null where it does not suit: fewer than 8 trees (the
    /// first levels run 16 side by side), or what <see cref="ThresholdRanks.ForByteLanes"/> refuses.
    /// </summary>
    public static PermuteForest? TryCreate(TreeEnsemble ensemble)
    {
        if (ThresholdRanks.ForByteLanes(ensemble, minTrees: 8) is not { } thresholds)
        {
            return null;
        }

        var depth = ensemble.MaxDepth;

        var cuts = thresholds.Cuts;
        var (offsets, leafOffset, treeBytes) = Layout(depth);
        var (top, groupBytes) = (TopOf(depth), TopOffsets[TopOf(depth)]);
        var tables = new byte[ensemble.TreeCount * treeBytes];
        var groupTables = new byte[((ensemble.TreeCount + GroupTrees - 1) / GroupTrees) * groupBytes];
        for (var t = 0; t < ensemble.TreeCount; t++)
        {
            var tree = tables.AsSpan(t * treeBytes, treeBytes);
            var group = (t / GroupTrees) * groupBytes;
            var lane = t % GroupTrees;
            Fill(tree, ensemble.Roots[t], 0, 0);

            void Fill(Span<byte> tree, int node, int level, int path)
            {
                if (node >= 0)
                {
                    var split = ensemble.Nodes[node];
                    var index = thresholds.IndexOf(split);
                    if (level < top)
                    {
                        // Top's tables: tree t's node at path p at entry (t << level) | p, the feature unshifted.
                        var (at, size) = (group + TopOffsets[level] + (lane << level) + path, TopTableBytes(level));
                        (groupTables[at], groupTables[at + size], groupTables[at + (2 * size)]) = ((byte)(index >> 8), (byte)index, (byte)split.Feature);
                    }
                    else
                    {
                        var (at, size) = (offsets[level] + path, TableBytes(level));
                        (tree[at], tree[at + size], tree[at + (2 * size)]) = ((byte)(index >> 8), (byte)index, (byte)(split.Feature << FeatureShift));
                    }

                    Fill(tree, split.Left, level + 1, 2 * path);
                    Fill(tree, split.Right, level + 1, (2 * path) + 1);
                    return;
                }

                // A leaf above the bottom: the slots under it (in either table) keep index 0 and feature 0
                // (either way is right) and every leaf slot under it holds its value. Leaf
                // slot s = 2p + d (p the path before the last level, d its decision) is entry
                // p mod 128 of table 2 * (p >> 7) + d in each byte plane.
                var bits = BitConverter.SingleToUInt32Bits(ensemble.Leaves[~node]);
                var first = path << (depth - level);
                for (var k = 0; k < 1 << (depth - level); k++)
                {
                    var slot = first + k;
                    var entry = (((2 * ((slot >> 1) >> 7)) + (slot & 1)) * 128) + ((slot >> 1) & 127);
                    for (var b = 0; b < 4; b++)
                    {
                        tree[leafOffset + (b * LeafPlaneBytes) + entry] = (byte)(bits >> (8 * b));
                    }
                }
            }
        }

        return new PermuteForest(cuts, tables, groupTables, depth, ensemble.TreeCount, ensemble.FeatureCount);
    }

    /// <summary>Trees side by side in <see cref="Top"/>: sixteen, with four pixels each, in 64 byte lanes (lane 4t + j).</summary>
    private const int GroupTrees = 16;

    /// <summary>Levels <see cref="Top"/> takes at most: its tables hold 16 &lt;&lt; level entries, 512 at level 5.</summary>
    private const int TopLevels = 6;

    /// <summary>Levels <see cref="Top"/> takes for a depth: up to 6, never the last level (its decision goes into the leaves).</summary>
    private static int TopOf(int depth) => Math.Min(TopLevels, depth - 1);

    private static int TopTableBytes(int level) => Math.Max(64, GroupTrees << level);

    /// <summary>Bytes of a block's ranks pixel by pixel for <see cref="Top"/>: 16 groups of four pixels, 128 bytes each.</summary>
    private const int PackedBlockBytes = 16 * 128;

    /// <summary>Where level L's tables start in a group's Top tables: entry L, the sum of the levels' above.</summary>
    private static readonly int[] TopOffsets = [.. Enumerable.Range(0, TopLevels + 1).Select(level => Enumerable.Range(0, level).Sum(l => 3 * TopTableBytes(l)))];

    /// <summary>
    /// Adds every tree's leaf, in tree order, to <c>dest[0 .. count)</c> (which holds the
    /// starting margins) for pixels whose NaN-free features are in planes (feature f of pixel
    /// i at <c>planes[f * stride + i]</c>); count a multiple of 64.
    /// </summary>
    public unsafe void Accumulate(ReadOnlySpan<float> planes, int stride, int count, Span<float> dest)
    {
        if (count % Lanes != 0 || count > stride || dest.Length < count || planes.Length < ((_features - 1) * stride) + count)
        {
            throw new ArgumentException("count must be a multiple of 64 and fit the planes and destination");
        }

        if (count == 0)
        {
            return;
        }

        // Ranks block by block: block b's upper-byte plane of feature f (64 bytes) at
        // (b * width + f) * 128, its lower-byte plane 64 further, so the picks read every plane
        // at a fixed offset from the block. The blend tree picking a lane's plane reads as many
        // as its width (2, 4, 8, 9 or 16), the ones past the features never picked.
        // Also pixel by pixel for Top: in each group of four pixels (128 bytes), pixel j's upper
        // byte of feature f at 16j + f, its lower byte 64 further.
        var width = ThresholdRanks.PickWidth(_features);
        var ranks = ArrayPool<byte>.Shared.Rent((width * count * 2) + 64);
        var packed = ArrayPool<byte>.Shared.Rent((PackedBlockBytes * (count / Lanes)) + 64);
        var margins = ArrayPool<float>.Shared.Rent(count + 16);
        var paths = ArrayPool<byte>.Shared.Rent((GroupTrees * Slice * Lanes) + 64);
        try
        {
            fixed (byte* rawRanks = ranks)
            fixed (byte* rawPacked = packed)
            fixed (float* rawMargins = margins)
            fixed (byte* rawPaths = paths)
            fixed (byte* tables = _tables)
            fixed (byte* groupTables = _groupTables)
            fixed (float* acc = dest)
            {
                var x = Align(rawRanks);
                var pixels = Align(rawPacked);
                var m = (float*)Align((byte*)rawMargins);
                var walk = new WalkState(x, pixels, count, width, tables, groupTables, m, (Vector512<byte>*)Align(rawPaths));
                Rank(planes, stride, count, x, pixels, width);
                Scramble(acc, m, count, toLanes: true);
                switch (_features)
                {
                    case <= 2: Walk<Pick2>(walk); break;
                    case <= 4: Walk<Pick4>(walk); break;
                    case <= 8: Walk<Pick8>(walk); break;
                    case 9: Walk<Pick9>(walk); break;
                    default: Walk<Pick16>(walk); break;
                }

                Scramble(acc, m, count, toLanes: false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(ranks);
            ArrayPool<byte>.Shared.Return(packed);
            ArrayPool<float>.Shared.Return(margins);
            ArrayPool<byte>.Shared.Return(paths);
        }
    }

    private static unsafe byte* Align(byte* raw) => (byte*)(((nint)raw + 63) & ~(nint)63);

    /// <summary>What a walk reads and writes: ranks as planes and pixel by pixel, tables, margins, the paths of a group of trees.</summary>
    private readonly unsafe struct WalkState(byte* ranks, byte* pixels, int count, int width, byte* tables, byte* groupTables, float* margins, Vector512<byte>* paths)
    {
        public byte* Ranks { get; } = ranks;

        public byte* Pixels { get; } = pixels;

        public int Count { get; } = count;

        public int Width { get; } = width;

        public byte* Tables { get; } = tables;

        public byte* GroupTables { get; } = groupTables;

        public float* Margins { get; } = margins;

        public Vector512<byte>* Paths { get; } = paths;
    }

    /// <summary>
    /// Pixel order to the order the leaf bytes come out of their interleave (and back): in a
    /// block of 64, vector k of the four holds pixels 16j + 4k .. 16j + 4k + 3 in its 128-bit
    /// lane j.
    /// </summary>
    private static unsafe void Scramble(float* pixels, float* lanes, int count, bool toLanes)
    {
        for (var b = 0; b < count; b += Lanes)
        {
            for (var k = 0; k < 4; k++)
            {
                for (var j = 0; j < 4; j++)
                {
                    var pixel = pixels + b + (16 * j) + (4 * k);
                    var lane = lanes + b + (16 * k) + (4 * j);
                    if (toLanes)
                    {
                        Vector128.Load(pixel).Store(lane);
                    }
                    else
                    {
                        Vector128.Load(lane).Store(pixel);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Each pixel's ranks, block by block (see <see cref="Accumulate"/>): for each feature the
    /// count of its thresholds below the value, as its upper and lower bytes. A branch-free
    /// binary search, 64 pixels at a time in independent vectors: its first five steps read
    /// only every (N/32)th threshold, which sit in two registers (<see cref="_coarse"/>) and are
    /// permuted, not gathered; the next up to four from tables of 32 to 256 entries
    /// (<see cref="_medium"/>), permuted register pair by pair and blended; the last up to four
    /// by one compare a pixel (<see cref="Window"/>), or where more are left, gathers, eight
    /// vectors side by side so their latencies overlap. (All thirteen steps by gathers took 42
    /// ns per pixel for the nine features of the published spectral model; five coarse and
    /// nine gathered 29, on the Xeon; on the EPYC five coarse and nine gathered 29.5, with the
    /// four medium steps 25.7, the ranks and the walk's set-up alone.) Also pixel by pixel for
    /// <see cref="Top"/> (see <see cref="Accumulate"/>).
    /// </summary>
    private unsafe void Rank(ReadOnlySpan<float> planes, int stride, int count, byte* ranks, byte* pixels, int width)
    {
        var startRaw = stackalloc int[Lanes + 16];
        var start = (int*)Align((byte*)startRaw);
        fixed (float* x = planes)
        {
            for (var f = 0; f < _features; f++)
            {
                fixed (float* cuts = _cuts[f])
                fixed (float* coarse = _coarse[f])
                fixed (float* medium = _medium[f])
                {
                    var (lower, upper) = (Vector512.Load(coarse), Vector512.Load(coarse + 16));
                    var size = _cuts[f].Length - WindowFloats;
                    var unit = size / CoarseEntries;
                    var unitShift = BitOperations.Log2((uint)Math.Max(unit, 1));
                    var levels = MediumLevels(size);
                    var fine = size >= 2 * CoarseEntries ? unit >> (levels + 1) : size / 2;
                    for (var i = 0; i < count; i += Lanes)
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

                            for (var k = 0; k < levels; k++)
                            {
                                var table = medium + (CoarseEntries * ((1 << k) - 1));
                                var (step, shift) = (unit >> (k + 1), unitShift - k);
                                switch (k)
                                {
                                    case 0: Medium<Cut32>(table, step, shift, (w0, w1, w2, w3), ref c0, ref c1, ref c2, ref c3); break;
                                    case 1: Medium<Cut64>(table, step, shift, (w0, w1, w2, w3), ref c0, ref c1, ref c2, ref c3); break;
                                    case 2: Medium<Cut128>(table, step, shift, (w0, w1, w2, w3), ref c0, ref c1, ref c2, ref c3); break;
                                    default: Medium<Cut256>(table, step, shift, (w0, w1, w2, w3), ref c0, ref c1, ref c2, ref c3); break;
                                }
                            }
                        }

                        c0.Store(start);
                        c1.Store(start + 16);
                        c2.Store(start + 32);
                        c3.Store(start + 48);
                        if (fine > 0 && 2 * fine <= WindowFloats)
                        {
                            Window(cuts, v, start);
                        }
                        else
                        {
                            ThresholdRanks.Search64(cuts, fine, v, start);
                        }

                        var o = ranks + ((i / Lanes) * 128 * width) + (f * 128);
                        for (var k = 0; k < Lanes; k += 8)
                        {
                            StoreBytes(Vector256.Load(start + k), o + k);
                        }
                    }
                }
            }
        }

        Pack(ranks, pixels, count, width);
    }

    /// <summary>
    /// The planes of each block (see <see cref="Accumulate"/>) pixel by pixel for <see cref="Top"/>:
    /// for the upper and the lower bytes, the 16 planes' 4-byte cells transposed (cell g of
    /// plane f: pixels 4g .. 4g+3), then each group's bytes from (feature, pixel) to (pixel,
    /// feature) order by one permute.
    /// </summary>
    private static unsafe void Pack(byte* ranks, byte* pixels, int count, int width)
    {
        var rowsRaw = stackalloc float[(16 * 16) + 16];
        var cellsRaw = stackalloc float[(16 * 16) + 16];
        var rows = (float*)Align((byte*)rowsRaw);
        var cells = (float*)Align((byte*)cellsRaw);
        var order = Vector512.Create(
            (byte)0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60,
            1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61,
            2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62,
            3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63);
        new Span<float>(rows, 16 * 16).Clear();
        for (var b = 0; b < count / Lanes; b++)
        {
            var block = ranks + (b * 128 * width);
            var groups = pixels + (b * PackedBlockBytes);
            for (var half = 0; half < 2; half++)
            {
                for (var f = 0; f < Math.Min(width, 16); f++)
                {
                    Vector512.Load(block + (f * 128) + (half * 64)).Store((byte*)(rows + (f * 16)));
                }

                Transpose(rows, cells, 64);
                for (var g = 0; g < 16; g++)
                {
                    // Byte 4f + j (feature f, pixel j) to 16j + f.
                    Avx512Vbmi.PermuteVar64x8(Vector512.Load((byte*)(cells + (g * 16))), order).Store(groups + (g * 128) + (half * 64));
                }
            }
        }
    }

    /// <summary>Cuts one window compare covers: up to the last four steps of a search (2^4 - 1 cuts), in one vector.</summary>
    private const int WindowFloats = 16;

    /// <summary>
    /// The last steps of the search for 64 pixels at once, pixel by pixel: rank r plus the count
    /// of <c>cuts[r .. r + 16)</c> below the value, one compare of a vector of cuts with the
    /// value. The earlier steps leave the rank in <c>[r, r + 16)</c>, and the cuts from the rank on
    /// are not below the value (they are sorted), so the count is what the steps would add.
    /// The four gathered steps took 21.7-21.9 ns per pixel for the published spectral model's
    /// nine features (their 4,090-6,179 distinct thresholds padded to 4,096 or 8,192, the
    /// medium tables and the packing included), this 18.0-18.3 (minimum of 2 s of 4,096-pixel
    /// calls, two alternating rounds); leaving the window 32 cuts and one medium step fewer
    /// took 19.8-20.2, 64 cuts and two fewer 25.1-26.4.
    /// </summary>
    private static unsafe void Window(float* cuts, float* v, int* ranks)
    {
        for (var k = 0; k < Lanes; k++)
        {
            var r = ranks[k];
            ranks[k] = r + BitOperations.PopCount(Vector512.LessThan(Vector512.Load(cuts + r), Vector512.Create(v[k])).ExtractMostSignificantBits());
        }
    }

    /// <summary>Eight ranks' upper bytes to <c>o[0..8)</c>, lower bytes to <c>o[64..72)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreBytes(Vector256<int> r, byte* o)
    {
        *(ulong*)o = Avx512F.VL.ConvertToVector128Byte(Vector256.ShiftRightLogical(r, 8)).AsUInt64().ToScalar();
        *(ulong*)(o + 64) = Avx512F.VL.ConvertToVector128Byte(r).AsUInt64().ToScalar();
    }

    /// <summary>Most search steps after the coarse ones that permute tables (level k: 2^(k+5) entries); the rest gather.</summary>
    private const int MaxMediumLevels = 4;

    /// <summary>Search steps after the coarse ones taken from <see cref="_medium"/> for a feature of size thresholds (padded).</summary>
    private static int MediumLevels(int size) =>
        size < 2 * CoarseEntries ? 0 : Math.Min(MaxMediumLevels, BitOperations.Log2((uint)(size / CoarseEntries)));

    /// <summary>The medium tables of a feature's padded thresholds c (see <see cref="_medium"/>).</summary>
    private static float[] Medium(float[] c)
    {
        var levels = MediumLevels(c.Length);
        var table = new float[CoarseEntries * ((1 << levels) - 1)];
        var unit = c.Length / CoarseEntries;
        for (var k = 0; k < levels; k++)
        {
            var step = unit >> (k + 1);
            for (var j = 0; j < CoarseEntries << k; j++)
            {
                table[(CoarseEntries * ((1 << k) - 1)) + j] = c[(((2 * j) + 1) * step) - 1];
            }
        }

        return table;
    }

    /// <summary>
    /// A medium step for the four vectors of 64 values: r is a multiple of 2
    /// <paramref name="step"/>, its entry r &gt;&gt; shift in the level's table (see
    /// <typeparamref name="TCut"/>) holds <c>cuts[r + step - 1]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Medium<TCut>(
        float* table, int step, int shift, (Vector512<float> W0, Vector512<float> W1, Vector512<float> W2, Vector512<float> W3) v,
        ref Vector512<int> r0, ref Vector512<int> r1, ref Vector512<int> r2, ref Vector512<int> r3)
        where TCut : struct, ICut
    {
        r0 = Step(TCut.Cut(table, Vector512.ShiftRightLogical(r0, shift)), step, v.W0, r0);
        r1 = Step(TCut.Cut(table, Vector512.ShiftRightLogical(r1, shift)), step, v.W1, r1);
        r2 = Step(TCut.Cut(table, Vector512.ShiftRightLogical(r2, shift)), step, v.W2, r2);
        r3 = Step(TCut.Cut(table, Vector512.ShiftRightLogical(r3, shift)), step, v.W3, r3);
    }

    /// <summary>
    /// <c>table[entry]</c> per lane for a medium table of one size: 32 entries a register pair,
    /// the pairs of a larger table picked by blends on the entry's upper bits, each size built
    /// of two of the size below.
    /// </summary>
    private unsafe interface ICut
    {
        static abstract Vector512<float> Cut(float* table, Vector512<int> entry);
    }

    private readonly unsafe struct Cut32 : ICut
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Cut(float* table, Vector512<int> entry) =>
            Avx512F.PermuteVar16x32x2(Vector512.Load(table), entry, Vector512.Load(table + 16));
    }

    private readonly unsafe struct Cut64 : ICut
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Cut(float* table, Vector512<int> entry) =>
            Avx512F.BlendVariable(Cut32.Cut(table, entry), Cut32.Cut(table + 32, entry), Vector512.ShiftLeft(entry, 26).AsSingle());
    }

    private readonly unsafe struct Cut128 : ICut
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Cut(float* table, Vector512<int> entry) =>
            Avx512F.BlendVariable(Cut64.Cut(table, entry), Cut64.Cut(table + 64, entry), Vector512.ShiftLeft(entry, 25).AsSingle());
    }

    private readonly unsafe struct Cut256 : ICut
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Cut(float* table, Vector512<int> entry) =>
            Avx512F.BlendVariable(Cut128.Cut(table, entry), Cut128.Cut(table + 128, entry), Vector512.ShiftLeft(entry, 24).AsSingle());
    }

    /// <summary>One step of the branch-free search: r grows by step where the cut is below v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Step(Vector512<float> cut, int step, Vector512<float> v, Vector512<int> r) =>
        r + (Vector512.LessThan(cut, v).AsInt32() & Vector512.Create(step));

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
        return Step(Avx512F.PermuteVar16x32x2(lower, entry, upper), step, v, r);
    }

    /// <summary>Blocks of 64 pixels whose paths are kept together: 16 (1024 pixels), 1 KB a tree, so that a tree's passes stay in L1.</summary>
    private const int Slice = 16;

    /// <summary>
    /// Group by group of 16 trees: their top levels side by side (<see cref="Top"/>), then tree
    /// by tree (its tables stay in L1 while the pixels pass) the rest, level by level over up to
    /// 16 blocks, each level's loop compiled for its table size; the last level's decision goes
    /// straight to the leaves. The margins get the trees' leaves in tree order.
    /// </summary>
    private unsafe void Walk<TPick>(WalkState s)
        where TPick : struct, IPick
    {
        var blocks = s.Count / Lanes;
        var block = (nint)128 * s.Width;
        var last = _depth - 1;
        var groupBytes = TopOffsets[_top];
        for (var g = 0; g * GroupTrees < _trees; g++)
        {
            var trees = Math.Min(GroupTrees, _trees - (g * GroupTrees));
            for (var first = 0; first < blocks; first += Slice)
            {
                var n = Math.Min(Slice, blocks - first);
                var x = s.Ranks + (first * block);
                Top(s.GroupTables + (g * groupBytes), s.Pixels + (first * PackedBlockBytes), s.Paths, n);
                for (var k = 0; k < trees; k++)
                {
                    var tree = s.Tables + (((g * GroupTrees) + k) * _treeBytes);
                    var paths = s.Paths + (k * Slice);
                    for (var level = _top; level < last; level++)
                    {
                        var table = tree + _offsets[level];
                        switch (level)
                        {
                            case <= 6: Level<Table64, TPick>(table, x, block, paths, n); break;
                            case 7: Level<Table128, TPick>(table, x, block, paths, n); break;
                            default: throw new InvalidOperationException("a level above the last is at most 7");
                        }
                    }

                    var at = s.Margins + (first * Lanes);
                    var lastTable = tree + _offsets[last];
                    var leaves = tree + _leafOffset;
                    switch (last)
                    {
                        case <= 6: Last<Table64, TPick>(lastTable, leaves, x, block, paths, n, at); break;
                        case 7: Last<Table128, TPick>(lastTable, leaves, x, block, paths, n, at); break;
                        default: Last<Table256, TPick>(lastTable, leaves, x, block, paths, n, at); break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Levels 0 .. top-1 of a group of 16 trees for n blocks, four pixels in a vector with the
    /// 16 trees side by side (lane 4t + j: tree t, pixel j): the node tables of all 16 trees fit
    /// a permute up to level 4 (256 entries) and two at level 5 (512, the lane picking the
    /// half: <see cref="TopTable512"/>), and the pixel's rank bytes of a lane's feature are
    /// one permute of the four pixels' 128 bytes, where 64 pixels a vector pick them by a tree
    /// of 16 blends. The paths come out as tree t's 64 pixels in order (a 16 x 16 transpose of
    /// 4-byte cells) in <c>paths[t * Slice + b]</c>.
    /// <para>
    /// Eight blocks a pass instead of one, levels outer (each level's tables loaded once per
    /// eight blocks, not per block): the trees 143.6-177.0 against 139.2-182.2 ns per pixel,
    /// six alternating rounds at a busy time, one thread; no gain shown, not kept.
    /// </para>
    /// </summary>
    private unsafe void Top(byte* tables, byte* pixels, Vector512<byte>* paths, int n)
    {
        var cellsRaw = stackalloc Vector512<byte>[GroupTrees + 1];
        var cells = (Vector512<byte>*)Align((byte*)cellsRaw);
        var lane = Vector512<byte>.Indices;
        var trees = Vector512.ShiftRightLogical(lane, 2);
        var slots = Vector512.ShiftLeft(lane & Vector512.Create((byte)3), 4);
        for (var b = 0; b < n; b++)
        {
            var groups = pixels + (b * PackedBlockBytes);
            for (var k = 0; k < GroupTrees; k++)
            {
                cells[k] = trees;
            }

            for (var level = 0; level < _top; level++)
            {
                var at = tables + TopOffsets[level];
                var strip = level == _top - 1;
                switch (level)
                {
                    case <= 2: TopLevel<Table64>(at, groups, cells, slots, level, strip); break;
                    case 3: TopLevel<Table128>(at, groups, cells, slots, level, strip); break;
                    case 4: TopLevel<Table256>(at, groups, cells, slots, level, strip); break;
                    default: TopLevel<TopTable512>(at, groups, cells, slots, level, strip); break;
                }
            }

            Transpose((float*)cells, (float*)(paths + b), Slice * Lanes);
        }
    }

    /// <summary>
    /// One top level for the 16 vectors of a block: <c>q = 2q + right</c> (q = (t &lt;&lt; level) | p),
    /// or at the last top level the path alone, <c>2p + right</c>.
    /// </summary>
    private static unsafe void TopLevel<TTable>(byte* table, byte* groups, Vector512<byte>* cells, Vector512<byte> slots, int level, bool strip)
        where TTable : struct, ITable<TTable>
    {
        var size = TTable.Size;
        var (his, los, indices) = (TTable.Load(table), TTable.Load(table + size), TTable.Load(table + (2 * size)));
        var paths = Vector512.Create((byte)((1 << level) - 1));
        for (var k = 0; k < GroupTrees; k++)
        {
            var q = cells[k];
            var hi = his.Lookup(q);
            var lo = los.Lookup(q);
            var index = indices.Lookup(q) + slots;
            var (g0, g1) = (Vector512.Load(groups + (k * 128)), Vector512.Load(groups + (k * 128) + 64));
            var h = Avx512Vbmi.PermuteVar64x8x2(g0, index, g1);
            var l = Avx512Vbmi.PermuteVar64x8x2(g0, index | Vector512.Create((byte)64), g1);
            cells[k] = Next(strip ? q & paths : q, Margin(h, l, hi, lo));
        }
    }

    /// <summary>
    /// The 16 x 16 matrix of 4-byte cells at <paramref name="rows"/> (row k: cell t at 4t bytes)
    /// transposed: row t of the result (cell k: row k's cell t) at <c>columns + t * stride</c>.
    /// </summary>
    private static unsafe void Transpose(float* rows, float* columns, nint stride)
    {
        var (b0, b1, b2, b3) = LaneForest.Quad(rows);
        var (b4, b5, b6, b7) = LaneForest.Quad(rows + 64);
        var (b8, b9, b10, b11) = LaneForest.Quad(rows + 128);
        var (b12, b13, b14, b15) = LaneForest.Quad(rows + 192);
        var (c0, c4, c8, c12) = LaneForest.Columns(b0, b4, b8, b12);
        var (c1, c5, c9, c13) = LaneForest.Columns(b1, b5, b9, b13);
        var (c2, c6, c10, c14) = LaneForest.Columns(b2, b6, b10, b14);
        var (c3, c7, c11, c15) = LaneForest.Columns(b3, b7, b11, b15);
        var s = stride / sizeof(float);
        c0.Store(columns);
        c1.Store(columns + s);
        c2.Store(columns + (2 * s));
        c3.Store(columns + (3 * s));
        c4.Store(columns + (4 * s));
        c5.Store(columns + (5 * s));
        c6.Store(columns + (6 * s));
        c7.Store(columns + (7 * s));
        c8.Store(columns + (8 * s));
        c9.Store(columns + (9 * s));
        c10.Store(columns + (10 * s));
        c11.Store(columns + (11 * s));
        c12.Store(columns + (12 * s));
        c13.Store(columns + (13 * s));
        c14.Store(columns + (14 * s));
        c15.Store(columns + (15 * s));
    }

    /// <summary>
    /// Positive (as a signed byte) exactly where the rank (bytes h, l) exceeds the index (bytes
    /// hi, lo): h - hi plus the lower bytes' carry (ranks below 2^14 keep it in range).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Margin(Vector512<byte> h, Vector512<byte> l, Vector512<byte> hi, Vector512<byte> lo)
    {
        var difference = (h - hi).AsSByte();
        return Vector512.ConditionalSelect(Vector512.GreaterThan(l, lo).AsSByte(), difference + Vector512<sbyte>.One, difference);
    }

    /// <summary><c>2p + (margin &gt; 0)</c>: a compare into a mask register and a masked add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Next(Vector512<byte> p, Vector512<sbyte> margin)
    {
        var twice = (p + p).AsSByte();
        return Vector512.ConditionalSelect(Vector512.GreaterThan(margin, Vector512<sbyte>.Zero), twice + Vector512<sbyte>.One, twice).AsByte();
    }

    /// <summary>
    /// One level for n blocks: <c>p = 2p + (pixel's rank of the node's feature &gt; node's index)</c>,
    /// the level's tables at <paramref name="table"/>, block b's ranks at <c>x + b * block</c>.
    /// </summary>
    private unsafe void Level<TTable, TPick>(byte* table, byte* x, nint block, Vector512<byte>* paths, int n)
        where TTable : struct, ITable<TTable>
        where TPick : struct, IPick
    {
        var size = TTable.Size;
        var (his, los, features) = (TTable.Load(table), TTable.Load(table + size), TTable.Load(table + (2 * size)));
        var xb = x;
        for (var b = 0; b < n; b++, xb += block)
        {
            var p = paths[b];
            paths[b] = Next(p, Decide<TTable, TPick>(his, los, features, xb, p));
        }
    }

    /// <summary>The node's decision for 64 lanes at paths p: right where the <see cref="Margin"/> is positive.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<sbyte> Decide<TTable, TPick>(in TTable his, in TTable los, in TTable features, byte* xb, Vector512<byte> p)
        where TTable : struct, ITable<TTable>
        where TPick : struct, IPick
    {
        var hi = his.Lookup(p);
        var lo = los.Lookup(p);
        var feature = features.Lookup(p);
        var (h, l) = TPick.Pick(xb, feature);
        return Margin(h, l, hi, lo);
    }

    /// <summary>
    /// The last level for n blocks: first every block's decision d; then each leaf byte picked
    /// among four 128-entry tables by (bit 7 of p, d), two byte planes a pass so that their
    /// 16 registers of tables stay loaded (one pass with the tables read in place took 162 ns
    /// per pixel for the published spectral model, these 153); the four bytes interleaved
    /// into floats and added to the margins (in the lane order of <see cref="Scramble"/>).
    /// </summary>
    private unsafe void Last<TTable, TPick>(byte* table, byte* leaves, byte* x, nint block, Vector512<byte>* paths, int n, float* acc)
        where TTable : struct, ITable<TTable>
        where TPick : struct, IPick
    {
        var size = TTable.Size;
        // Whole cache lines: vectors across two lines cost two accesses (stack memory is only
        // 16-byte aligned): with these, Top's and the ranks' aligned, 142.7-144.5 ns per pixel
        // against 152.0-153.1 (published spectral, minimum over interleaved rounds, two runs).
        var rightsRaw = stackalloc Vector512<byte>[Slice + 1];
        var wordsRaw = stackalloc Vector512<ushort>[(2 * Slice) + 1];
        var rights = (Vector512<byte>*)Align((byte*)rightsRaw);
        var words = (Vector512<ushort>*)Align((byte*)wordsRaw);
        var (his, los, features) = (TTable.Load(table), TTable.Load(table + size), TTable.Load(table + (2 * size)));
        var xb = x;
        for (var b = 0; b < n; b++, xb += block)
        {
            rights[b] = Vector512.GreaterThan(Decide<TTable, TPick>(his, los, features, xb, paths[b]), Vector512<sbyte>.Zero).AsByte();
        }

        // Two planes at a time, their tables in registers: bytes 0 and 1 interleaved into
        // words, then bytes 2 and 3, and the words into floats.
        var (p0, p1) = (LeafPlane.Load(leaves), LeafPlane.Load(leaves + LeafPlaneBytes));
        for (var b = 0; b < n; b++)
        {
            var (p, right) = (paths[b], rights[b]);
            var (b0, b1) = (p0.Byte(p, right), p1.Byte(p, right));
            words[2 * b] = Avx512BW.UnpackLow(b0, b1).AsUInt16();
            words[(2 * b) + 1] = Avx512BW.UnpackHigh(b0, b1).AsUInt16();
        }

        var (p2, p3) = (LeafPlane.Load(leaves + (2 * LeafPlaneBytes)), LeafPlane.Load(leaves + (3 * LeafPlaneBytes)));
        for (var b = 0; b < n; b++)
        {
            var (p, right) = (paths[b], rights[b]);
            var (b2, b3) = (p2.Byte(p, right), p3.Byte(p, right));
            Add(acc + (b * Lanes), words[2 * b], words[(2 * b) + 1], Avx512BW.UnpackLow(b2, b3).AsUInt16(), Avx512BW.UnpackHigh(b2, b3).AsUInt16());
        }
    }

    /// <summary>
    /// The floats of 64 lanes from their bytes' words (w0, w1: bytes 0 and 1 of lanes 0-7,
    /// 16-23, ... and 8-15, 24-31, ...; w2, w3 bytes 2 and 3 alike) added to the margins at a.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Add(float* a, Vector512<ushort> w0, Vector512<ushort> w1, Vector512<ushort> w2, Vector512<ushort> w3)
    {
        (Vector512.Load(a) + Avx512BW.UnpackLow(w0, w2).AsSingle()).Store(a);
        (Vector512.Load(a + 16) + Avx512BW.UnpackHigh(w0, w2).AsSingle()).Store(a + 16);
        (Vector512.Load(a + 32) + Avx512BW.UnpackLow(w1, w3).AsSingle()).Store(a + 32);
        (Vector512.Load(a + 48) + Avx512BW.UnpackHigh(w1, w3).AsSingle()).Store(a + 48);
    }

    /// <summary>A leaf byte plane's four 128-entry tables in registers.</summary>
    private readonly unsafe struct LeafPlane(Table128 left, Table128 right, Table128 upperLeft, Table128 upperRight)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static LeafPlane Load(byte* plane) =>
            new(Table128.Load(plane), Table128.Load(plane + 128), Table128.Load(plane + 256), Table128.Load(plane + 384));

        /// <summary>The byte at (p, d): table 2 * (bit 7 of p) + d, entry p mod 128.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<byte> Byte(Vector512<byte> p, Vector512<byte> d)
        {
            var low = Vector512.ConditionalSelect(d, right.Lookup(p), left.Lookup(p));
            var upper = Vector512.ConditionalSelect(d, upperRight.Lookup(p), upperLeft.Lookup(p));
            return Avx512BW.BlendVariable(low, upper, p);
        }
    }

    /// <summary>
    /// Each lane's rank bytes of its own feature, by a tree of blends on the feature's bits over
    /// the feature planes at x (feature f's upper bytes at 128f, lower bytes 64 further); one
    /// width of tree per type.
    /// </summary>
    private unsafe interface IPick
    {
        static abstract (Vector512<byte> Upper, Vector512<byte> Lower) Pick(byte* x, Vector512<byte> feature);
    }

    private readonly unsafe struct Pick2 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector512<byte> Upper, Vector512<byte> Lower) Pick(byte* x, Vector512<byte> feature)
        {
            var (b0, _, _) = Bits(feature);
            return (Blend(b0, x + 128, x), Blend(b0, x + 192, x + 64));
        }
    }

    private readonly unsafe struct Pick4 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector512<byte> Upper, Vector512<byte> Lower) Pick(byte* x, Vector512<byte> feature)
        {
            var (b0, b1, _) = Bits(feature);
            return (Blend(b1, Blend(b0, x + 384, x + 256), Blend(b0, x + 128, x)), Blend(b1, Blend(b0, x + 448, x + 320), Blend(b0, x + 192, x + 64)));
        }
    }

    private readonly unsafe struct Pick8 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector512<byte> Upper, Vector512<byte> Lower) Pick(byte* x, Vector512<byte> feature)
        {
            var (b0, b1, b2) = Bits(feature);
            return (Eight(x, b0, b1, b2), Eight(x + 64, b0, b1, b2));
        }

        /// <summary>Plane (feature mod 8) of the planes at x, 128 bytes apart.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<byte> Eight(byte* x, Vector512<byte> b0, Vector512<byte> b1, Vector512<byte> b2) =>
            Blend(
                b2,
                Blend(b1, Blend(b0, x + 896, x + 768), Blend(b0, x + 640, x + 512)),
                Blend(b1, Blend(b0, x + 384, x + 256), Blend(b0, x + 128, x)));
    }

    /// <summary>Nine features (the published spectral model's): eight by <see cref="Pick8"/>, the ninth on bit 3.</summary>
    private readonly unsafe struct Pick9 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector512<byte> Upper, Vector512<byte> Lower) Pick(byte* x, Vector512<byte> feature)
        {
            var (upper, lower) = Pick8.Pick(x, feature);
            return (Avx512BW.BlendVariable(upper, Vector512.Load(x + 1024), feature), Avx512BW.BlendVariable(lower, Vector512.Load(x + 1088), feature));
        }
    }

    private readonly unsafe struct Pick16 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector512<byte> Upper, Vector512<byte> Lower) Pick(byte* x, Vector512<byte> feature)
        {
            var (b0, b1, b2) = Bits(feature);
            return (
                Avx512BW.BlendVariable(Pick8.Eight(x, b0, b1, b2), Pick8.Eight(x + 1024, b0, b1, b2), feature),
                Avx512BW.BlendVariable(Pick8.Eight(x + 64, b0, b1, b2), Pick8.Eight(x + 1088, b0, b1, b2), feature));
        }
    }

    /// <summary>
    /// The feature byte with bit 0, 1 and 2 of the feature in its sign (the feature sits in the
    /// upper four bits, bit 3 in the sign already; bytes have no shift, so doublings).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<byte> Bit0, Vector512<byte> Bit1, Vector512<byte> Bit2) Bits(Vector512<byte> feature)
    {
        var bit2 = feature + feature;
        var bit1 = bit2 + bit2;
        return (bit1 + bit1, bit1, bit2);
    }

    /// <summary>The plane at b where the sign of <paramref name="sign"/> is set, else the one at a (a blend on a mask register).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<byte> Blend(Vector512<byte> sign, byte* b, byte* a) =>
        Avx512BW.BlendVariable(Vector512.Load(a), Vector512.Load(b), sign);

    /// <summary>b where the sign of <paramref name="sign"/> is set, else a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Blend(Vector512<byte> sign, Vector512<byte> b, Vector512<byte> a) =>
        Avx512BW.BlendVariable(a, b, sign);

    /// <summary>
    /// <c>table[p]</c> per byte lane, for one table size: the table's registers loaded once
    /// (<see cref="ITable{TSelf}.Load"/>) before a loop over blocks or vectors, as the JIT does
    /// not hoist the loads itself, and every load takes a slot of the load ports the picks and
    /// the permutes' second operands already keep busy.
    /// </summary>
    private unsafe interface ITable<TSelf>
        where TSelf : struct, ITable<TSelf>
    {
        static abstract int Size { get; }

        static abstract TSelf Load(byte* table);

        Vector512<byte> Lookup(Vector512<byte> p);
    }

    /// <summary>Up to 64 entries: one permute (p below 64).</summary>
    private readonly unsafe struct Table64(Vector512<byte> entries) : ITable<Table64>
    {
        public static int Size => 64;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Table64 Load(byte* table) => new(Vector512.Load(table));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<byte> Lookup(Vector512<byte> p) => Avx512Vbmi.PermuteVar64x8(entries, p);
    }

    /// <summary>128 entries: one two-register permute (bit 7 of p ignored).</summary>
    private readonly unsafe struct Table128(Vector512<byte> lower, Vector512<byte> upper) : ITable<Table128>
    {
        public static int Size => 128;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Table128 Load(byte* table) => new(Vector512.Load(table), Vector512.Load(table + 64));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<byte> Lookup(Vector512<byte> p) => Avx512Vbmi.PermuteVar64x8x2(lower, p, upper);
    }

    /// <summary>
    /// Top's level 5: 16 trees of 32 nodes, 512 entries, tree t's at (t &lt;&lt; 5) | p. Its byte
    /// <c>q = (t &lt;&lt; 5) | p</c> wraps to <c>((t mod 8) &lt;&lt; 5) | p</c>, and Top's lane 4t + j tells
    /// the rest: lanes from 32 on (trees 8-15) look up the upper 256 entries.
    /// </summary>
    private readonly unsafe struct TopTable512(Table256 lower, Table256 upper) : ITable<TopTable512>
    {
        public static int Size => 512;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TopTable512 Load(byte* table) => new(Table256.Load(table), Table256.Load(table + 256));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<byte> Lookup(Vector512<byte> p) =>
            Avx512BW.BlendVariable(lower.Lookup(p), upper.Lookup(p), Vector512.Create(0UL, 0, 0, 0, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue).AsByte());
    }

    /// <summary>256 entries: two 128-entry lookups blended on bit 7 of p.</summary>
    private readonly unsafe struct Table256(Vector512<byte> a, Vector512<byte> b, Vector512<byte> c, Vector512<byte> d) : ITable<Table256>
    {
        public static int Size => 256;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Table256 Load(byte* table) =>
            new(Vector512.Load(table), Vector512.Load(table + 64), Vector512.Load(table + 128), Vector512.Load(table + 192));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<byte> Lookup(Vector512<byte> p) =>
            Avx512BW.BlendVariable(Avx512Vbmi.PermuteVar64x8x2(a, p, b), Avx512Vbmi.PermuteVar64x8x2(c, p, d), p);
    }
}
