using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Trees;

/// <summary>
/// The AVX2 counterpart of <see cref="PermuteForest"/> for processors without AVX-512 (AMD Zen
/// 2 and 3, many Intel cloud nodes): a summed ensemble of trees up to 9 deep walked 32 pixels
/// at a time in byte lanes, every node lookup an in-lane byte shuffle (<c>vpshufb</c>) of a
/// 16-entry table, no gather in the walk.
/// <para>
/// Why: on such machines the published spectral forest ran through <see cref="LaneForest"/>,
/// eight trees a vector with AVX2 gathers, at 1,596 ns per pixel on one thread of an AMD EPYC
/// (Zen 3), where a gather of eight elements costs several times eight loads.
/// </para>
/// <para>
/// How: as in <see cref="PermuteForest"/>, a feature value becomes its rank among the
/// feature's distinct thresholds (<see cref="ThresholdRanks"/>), so <c>x &gt; t</c> holds
/// exactly when <c>rank &gt; t's index</c>; ranks (below 2^14) are kept as two byte planes,
/// upper (rank &gt;&gt; 7) and lower (rank &amp; 127), both within a signed byte for AVX2's
/// signed compares. One tree at a time walks a slice of blocks level by level, its path per
/// byte lane: level L's node data (index upper bytes, index lower bytes, feature in the upper
/// four bits) are three tables of <c>max(16, 2^L)</c> bytes; each 16-entry chunk is one
/// <c>vpshufb</c> on the path's low four bits, and from level 5 on the chunks are blended on
/// the path's bits 4 and up. A lane's feature ranks are picked from the planes by a tree of
/// blends on the feature's bits. The decision is
/// <c>(upper - index upper, saturated) + (lower &gt; index lower) &gt; 0</c>; the last level's
/// decision and path give the leaf's slot, kept per tree; once the slice's trees are walked,
/// each pixel's leaves are added to its margin in tree order in float32, as XGBoost adds
/// them (<see cref="AddLeaves"/>): the margins equal the other kernels' bit for bit.
/// </para>
/// <para>
/// Measured and dropped: blending only the features a level's nodes split on (one plane at
/// the root, two or four at levels 1-2, through per-level plane offsets), which would save
/// about 40 of some 700 vector operations per tree and block: one thread 0.87-1.24 against
/// 1.05-1.12 Mpx/s, alternating, and no faster for all levels (0.90-1.06 against
/// 1.00-1.17); leaf values added tree by tree at the last level by a scalar loop
/// (load, add and store per pixel) instead of gathers (0.91-1.17 against 1.12-1.32); the last
/// one or two levels walked per pixel with plain loads as the leaves are added (node entries
/// of index and feature, each pixel's whole ranks), which would spare the deepest levels'
/// 8 and 16 chunks a table: 2.46-2.97 and 3.04-4.64 against 1.76-2.16 ms per 2,048 pixels
/// (BenchmarkDotNet, alternating; eight pixels side by side spilled their sums, tree by tree
/// over the slice no better), as the loads' chain is longer than the shuffles it saves.
/// </para>
/// <para>
/// Ruled out on the data, not built: a cache of margins by rank vector (pixels with the same
/// ranks in all nine features have the same margin), since 98.9 % of the clear scene's
/// pixels and 88 % of the stack's have ranks no other pixel has; stopping a pixel once its
/// mask is decided (the opening commutes with the threshold), since the leaves the later trees
/// can still add span -29 to +31 after 100 trees and -13 to +15 after 150, where a
/// probability of 0.99 is a margin of 4.6.
/// </para>
/// </summary>
[SkipLocalsInit]
internal sealed class ShuffleForest : IRankForest
{
    /// <summary>Pixels a call takes a multiple of (the ranks' search runs 64 at a time).</summary>
    public const int Lanes = 64;

    /// <inheritdoc/>
    public int CallPixels => Lanes;

    /// <summary>Pixels per vector: 32 byte lanes.</summary>
    private const int Block = 32;

    /// <summary>
    /// Blocks a tree's pass walks level by level: their paths are independent, so the core
    /// overlaps them. 8 and 32 measured slower (published spectral, one thread, AMD EPYC Zen 3,
    /// alternating: 0.92-1.00 and 0.94-1.41 against 1.12-1.26 Mpx/s).
    /// </summary>
    private const int Slice = 16;

    private const int FeatureShift = ThresholdRanks.FeatureShift;

    /// <summary>Per feature, its distinct thresholds ascending, padded with +inf to a power of two.</summary>
    private readonly float[][] _cuts;

    /// <summary>Per tree <see cref="_treeBytes"/>: per level its index upper bytes, lower bytes and features, <see cref="TableBytes"/> each.</summary>
    private readonly byte[] _tables;

    /// <summary>Per tree 2^depth leaf values: slot <c>2p + d</c> for the last level's path p and decision d.</summary>
    private readonly float[] _leaves;

    private readonly int[] _offsets;
    private readonly int _depth;
    private readonly int _trees;
    private readonly int _features;
    private readonly int _width;
    private readonly int _treeBytes;

    private ShuffleForest(float[][] cuts, byte[] tables, float[] leaves, int[] offsets, int treeBytes, int depth, int trees, int features)
    {
        _cuts = cuts;
        _tables = tables;
        _leaves = leaves;
        _offsets = offsets;
        _treeBytes = treeBytes;
        _depth = depth;
        _trees = trees;
        _features = features;
        _width = ThresholdRanks.PickWidth(features);
    }

    /// <summary>Whether the processor runs it: AVX2 (byte shuffles, blends and the ranks' gathers).</summary>
    public static bool RunsHere => Avx2.IsSupported;

    private static int TableBytes(int level) => Math.Max(16, 1 << level);

    /// <summary>
    /// The layout of a summed ensemble, or null where it does not suit (what
    /// <see cref="ThresholdRanks.ForByteLanes"/> refuses; any number of trees).
    /// </summary>
    public static ShuffleForest? TryCreate(TreeEnsemble ensemble)
    {
        if (ThresholdRanks.ForByteLanes(ensemble, minTrees: 1) is not { } thresholds)
        {
            return null;
        }

        var depth = ensemble.MaxDepth;
        var offsets = new int[depth];
        var treeBytes = 0;
        for (var level = 0; level < depth; level++)
        {
            offsets[level] = treeBytes;
            treeBytes += 3 * TableBytes(level);
        }

        var tables = new byte[ensemble.TreeCount * treeBytes];
        var leaves = new float[ensemble.TreeCount << depth];
        for (var t = 0; t < ensemble.TreeCount; t++)
        {
            var tree = tables.AsSpan(t * treeBytes, treeBytes);
            var treeLeaves = leaves.AsSpan(t << depth, 1 << depth);
            Fill(tree, treeLeaves, ensemble.Roots[t], 0, 0);
        }

        return new ShuffleForest(thresholds.Cuts, tables, leaves, offsets, treeBytes, depth, ensemble.TreeCount, ensemble.FeatureCount);

        void Fill(Span<byte> tree, Span<float> treeLeaves, int node, int level, int path)
        {
            if (node >= 0)
            {
                var split = ensemble.Nodes[node];
                var index = thresholds.IndexOf(split);
                var (at, size) = (offsets[level] + path, TableBytes(level));
                (tree[at], tree[at + size], tree[at + (2 * size)]) = ((byte)(index >> 7), (byte)(index & 127), (byte)(split.Feature << FeatureShift));
                Fill(tree, treeLeaves, split.Left, level + 1, 2 * path);
                Fill(tree, treeLeaves, split.Right, level + 1, (2 * path) + 1);
                return;
            }

            // A leaf above the bottom: the table slots under it keep index 0 and feature 0
            // (either way is right) and every leaf slot under it holds its value.
            treeLeaves.Slice(path << (depth - level), 1 << (depth - level)).Fill(ensemble.Leaves[~node]);
        }
    }

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

        // Block b's upper-byte plane of feature f (32 bytes) at b * blockBytes + 32 f, its
        // lower-byte plane 32 width further.
        var blockBytes = 2 * _width * Block;
        var blocks = count / Block;
        var ranks = ArrayPool<byte>.Shared.Rent((blocks * blockBytes) + 32);
        try
        {
            fixed (byte* rawRanks = ranks)
            fixed (float* x = planes)
            fixed (float* acc = dest)
            fixed (byte* tables = _tables)
            fixed (float* leaves = _leaves)
            {
                var r = (byte*)(((nint)rawRanks + 31) & ~(nint)31);
                Rank(x, stride, count, r, blockBytes);
                switch (_width)
                {
                    case 2: Walk<Pick2>(r, blockBytes, blocks, tables, leaves, acc); break;
                    case 4: Walk<Pick4>(r, blockBytes, blocks, tables, leaves, acc); break;
                    case 8: Walk<Pick8>(r, blockBytes, blocks, tables, leaves, acc); break;
                    case 9: Walk<Pick9>(r, blockBytes, blocks, tables, leaves, acc); break;
                    default: Walk<Pick16>(r, blockBytes, blocks, tables, leaves, acc); break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(ranks);
        }
    }

    /// <summary>Every pixel's ranks as byte planes (see <see cref="Accumulate"/>), 64 pixels a search.</summary>
    private unsafe void Rank(float* x, int stride, int count, byte* ranks, int blockBytes)
    {
        var raw = stackalloc int[Lanes + 8];
        var found = (int*)(((nint)raw + 31) & ~(nint)31);
        var low = Vector256.Create(127);
        for (var f = 0; f < _features; f++)
        {
            fixed (float* cuts = _cuts[f])
            {
                var top = _cuts[f].Length / 2;
                for (var i = 0; i < count; i += Lanes)
                {
                    for (var k = 0; k < Lanes; k += 8)
                    {
                        Vector256<int>.Zero.Store(found + k);
                    }

                    ThresholdRanks.Search64(cuts, top, x + ((long)f * stride) + i, found);
                    for (var h = 0; h < Lanes; h += Block)
                    {
                        var (r0, r1, r2, r3) = (Vector256.Load(found + h), Vector256.Load(found + h + 8), Vector256.Load(found + h + 16), Vector256.Load(found + h + 24));
                        var block = ranks + (((i + h) / Block) * blockBytes);
                        Bytes(r0 >>> 7, r1 >>> 7, r2 >>> 7, r3 >>> 7).Store(block + (f * Block));
                        Bytes(r0 & low, r1 & low, r2 & low, r3 & low).Store(block + ((_width + f) * Block));
                    }
                }
            }
        }

        static Vector256<byte> Bytes(Vector256<int> a, Vector256<int> b, Vector256<int> c, Vector256<int> d) =>
            Vector256.Narrow(Vector256.Narrow(a.AsUInt32(), b.AsUInt32()), Vector256.Narrow(c.AsUInt32(), d.AsUInt32()));
    }

    /// <summary>Slice by slice, tree by tree, level by level over the slice's blocks.</summary>
    private unsafe void Walk<TPick>(byte* ranks, int blockBytes, int blocks, byte* tables, float* leaves, float* acc)
        where TPick : struct, IPick
    {
        var paths = stackalloc Vector256<byte>[Slice];
        var lower = _width * Block;
        const int Row = Slice * Block;
        var rented = ArrayPool<ushort>.Shared.Rent((_trees * Row) + 16);
        try
        {
            fixed (ushort* rawSlots = rented)
            {
                var slots = (ushort*)(((nint)rawSlots + 31) & ~(nint)31);
                for (var s = 0; s < blocks; s += Slice)
                {
                    var n = Math.Min(Slice, blocks - s);
                    var sliceRanks = ranks + ((long)s * blockBytes);
                    for (var t = 0; t < _trees; t++)
                    {
                        var tree = tables + ((long)t * _treeBytes);
                        for (var level = 0; level < _depth; level++)
                        {
                            var table = tree + _offsets[level];
                            var treeSlots = level == _depth - 1 ? slots + ((long)t * Row) : null;
                            var walk = new LevelState(table, TableBytes(level), sliceRanks, blockBytes, lower, paths, n, level == 0, treeSlots);
                            switch (level)
                            {
                                case <= 4: Level<Look1, TPick>(walk); break;
                                case 5: Level<Look2, TPick>(walk); break;
                                case 6: Level<Look4, TPick>(walk); break;
                                case 7: Level<Look8, TPick>(walk); break;
                                default: Level<Look16, TPick>(walk); break;
                            }
                        }
                    }

                    AddLeaves(slots, Row, leaves, acc + ((long)s * Block), n * Block);
                }
            }
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Adds each tree's leaf to the margins of <paramref name="count"/> pixels, tree after tree
    /// in float32 as XGBoost adds them, eight pixels side by side (each its own chain of adds),
    /// a leaf fetched by a plain load from its slot in <paramref name="slots"/> (tree t's row
    /// <paramref name="row"/> entries apart). Each tree's leaves were gathered and added at its
    /// last level before (an 8-lane gather costs about 4.9 ns on an AMD EPYC of the Zen 3
    /// generation, three loads about 1): the published spectral's trees now take 1,482-1,501
    /// us per 2,048 pixels against 1,753-2,127 (BenchmarkDotNet, alternating), its throughput
    /// on two threads 1.70-2.14 against 1.83-1.95 Mpx/s (three alternating runs, a busy machine).
    /// </summary>
    private unsafe void AddLeaves(ushort* slots, int row, float* leaves, float* margins, int count)
    {
        var stride = 1 << _depth;
        for (var i = 0; i < count; i += 8)
        {
            var m = margins + i;
            var (a0, a1, a2, a3, a4, a5, a6, a7) = (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
            var at = slots + i;
            var leaf = leaves;
            for (var t = 0; t < _trees; t++, at += row, leaf += stride)
            {
                a0 += leaf[at[0]];
                a1 += leaf[at[1]];
                a2 += leaf[at[2]];
                a3 += leaf[at[3]];
                a4 += leaf[at[4]];
                a5 += leaf[at[5]];
                a6 += leaf[at[6]];
                a7 += leaf[at[7]];
            }

            (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]) = (a0, a1, a2, a3, a4, a5, a6, a7);
        }
    }

    /// <summary>What one level's pass over a slice reads and writes.</summary>
    private readonly unsafe struct LevelState(byte* table, int size, byte* ranks, int blockBytes, int lower, Vector256<byte>* paths, int blocks, bool first, ushort* slots)
    {
        public byte* Table { get; } = table;

        public int Size { get; } = size;

        public byte* Ranks { get; } = ranks;

        public int BlockBytes { get; } = blockBytes;

        /// <summary>Offset of the lower-byte planes from a block's start.</summary>
        public int Lower { get; } = lower;

        public Vector256<byte>* Paths { get; } = paths;

        public int Blocks { get; } = blocks;

        /// <summary>The root level: every path is 0.</summary>
        public bool First { get; } = first;

        /// <summary>At the last level, where the blocks' leaf slots go (the decisions pick leaves), else null.</summary>
        public ushort* Slots { get; } = slots;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Level<TLook, TPick>(LevelState w)
        where TLook : struct, ILook
        where TPick : struct, IPick
    {
        var table = w.Table;
        var (size, lower) = (w.Size, w.Lower);
        for (var b = 0; b < w.Blocks; b++)
        {
            var p = w.First ? Vector256<byte>.Zero : w.Paths[b];
            var high = TLook.Look(table, p);
            var low = TLook.Look(table + size, p);
            var m3 = TLook.Look(table + (2 * size), p);
            var m2 = Avx2.Add(m3, m3);
            var m1 = Avx2.Add(m2, m2);
            var m0 = Avx2.Add(m1, m1);
            var block = w.Ranks + ((long)b * w.BlockBytes);
            var rankHigh = TPick.Pick(block, m0, m1, m2, m3).AsSByte();
            var rankLow = TPick.Pick(block + lower, m0, m1, m2, m3).AsSByte();

            // rank > index: the upper bytes' difference, plus one where the lower byte is greater, above 0.
            var carry = Avx2.CompareGreaterThan(rankLow, low.AsSByte());
            var difference = Avx2.SubtractSaturate(Avx2.SubtractSaturate(rankHigh, high.AsSByte()), carry);
            var right = Avx2.CompareGreaterThan(difference, Vector256<sbyte>.Zero).AsByte();
            if (w.Slots == null)
            {
                w.Paths[b] = Avx2.Subtract(Avx2.Add(p, p), right);
                continue;
            }

            // Leaf slot 2p + d (d = 1 right) in 16 bits, as 2p - (the decision's byte, -1 or 0).
            var to = (short*)w.Slots + ((long)b * Block);
            var (p0, p1) = (Avx2.ConvertToVector256Int16(p.GetLower()), Avx2.ConvertToVector256Int16(p.GetUpper()));
            Avx.Store(to, Avx2.Subtract(Avx2.Add(p0, p0), Avx2.ConvertToVector256Int16(right.AsSByte().GetLower())));
            Avx.Store(to + 16, Avx2.Subtract(Avx2.Add(p1, p1), Avx2.ConvertToVector256Int16(right.AsSByte().GetUpper())));
        }
    }

    /// <summary>A level's table of one byte per node, looked up by the path.</summary>
    private interface ILook
    {
        static abstract unsafe Vector256<byte> Look(byte* table, Vector256<byte> path);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<byte> Chunk(byte* table, Vector256<byte> index) =>
        Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(table), index);

    /// <summary>The path's bits 4, 5 and 6 moved to each byte's sign, for blends (16-bit shifts: no bit crosses into a byte's sign).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Bit4(Vector256<byte> path) => Avx2.ShiftLeftLogical(path.AsUInt16(), 3).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Bit5(Vector256<byte> path) => Avx2.ShiftLeftLogical(path.AsUInt16(), 2).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Bit6(Vector256<byte> path) => Avx2.ShiftLeftLogical(path.AsUInt16(), 1).AsByte();

    /// <summary>Levels 0-4: one chunk (paths below 16).</summary>
    private readonly struct Look1 : ILook
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Look(byte* table, Vector256<byte> path) => Chunk(table, path);
    }

    /// <summary>Level 5: two chunks, blended on the path's bit 4.</summary>
    private readonly struct Look2 : ILook
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Look(byte* table, Vector256<byte> path) =>
            Two(table, path & Vector256.Create((byte)15), Bit4(path));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Two(byte* table, Vector256<byte> index, Vector256<byte> bit4) =>
            Avx2.BlendVariable(Chunk(table, index), Chunk(table + 16, index), bit4);
    }

    /// <summary>Level 6: four chunks.</summary>
    private readonly struct Look4 : ILook
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Look(byte* table, Vector256<byte> path) =>
            Four(table, path & Vector256.Create((byte)15), Bit4(path), Bit5(path));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Four(byte* table, Vector256<byte> index, Vector256<byte> bit4, Vector256<byte> bit5) =>
            Avx2.BlendVariable(Look2.Two(table, index, bit4), Look2.Two(table + 32, index, bit4), bit5);
    }

    /// <summary>Level 7: eight chunks.</summary>
    private readonly struct Look8 : ILook
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Look(byte* table, Vector256<byte> path) =>
            Eight(table, path & Vector256.Create((byte)15), Bit4(path), Bit5(path), Bit6(path));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Eight(byte* table, Vector256<byte> index, Vector256<byte> bit4, Vector256<byte> bit5, Vector256<byte> bit6) =>
            Avx2.BlendVariable(Look4.Four(table, index, bit4, bit5), Look4.Four(table + 64, index, bit4, bit5), bit6);
    }

    /// <summary>Level 8: sixteen chunks (the path's bit 7 is its sign: the blend's mask as it is).</summary>
    private readonly struct Look16 : ILook
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Look(byte* table, Vector256<byte> path)
        {
            var index = path & Vector256.Create((byte)15);
            var (bit4, bit5, bit6) = (Bit4(path), Bit5(path), Bit6(path));
            return Avx2.BlendVariable(Look8.Eight(table, index, bit4, bit5, bit6), Look8.Eight(table + 128, index, bit4, bit5, bit6), path);
        }
    }

    /// <summary>
    /// A lane's byte of its feature's plane (plane f at <c>planes + 32 f</c>), by a tree of
    /// blends on the feature's bits 0-3 (masks m0-m3: each bit at the byte's sign).
    /// </summary>
    private interface IPick
    {
        static abstract unsafe Vector256<byte> Pick(byte* planes, Vector256<byte> m0, Vector256<byte> m1, Vector256<byte> m2, Vector256<byte> m3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<byte> Plane(byte* planes, int f) => Avx.LoadAlignedVector256(planes + (f * Block));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<byte> Pair(byte* planes, int f, Vector256<byte> m0) =>
        Avx2.BlendVariable(Plane(planes, f), Plane(planes, f + 1), m0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<byte> Quad(byte* planes, int f, Vector256<byte> m0, Vector256<byte> m1) =>
        Avx2.BlendVariable(Pair(planes, f, m0), Pair(planes, f + 2, m0), m1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<byte> Octet(byte* planes, int f, Vector256<byte> m0, Vector256<byte> m1, Vector256<byte> m2) =>
        Avx2.BlendVariable(Quad(planes, f, m0, m1), Quad(planes, f + 4, m0, m1), m2);

    private readonly struct Pick2 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Pick(byte* planes, Vector256<byte> m0, Vector256<byte> m1, Vector256<byte> m2, Vector256<byte> m3) => Pair(planes, 0, m0);
    }

    private readonly struct Pick4 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Pick(byte* planes, Vector256<byte> m0, Vector256<byte> m1, Vector256<byte> m2, Vector256<byte> m3) => Quad(planes, 0, m0, m1);
    }

    private readonly struct Pick8 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Pick(byte* planes, Vector256<byte> m0, Vector256<byte> m1, Vector256<byte> m2, Vector256<byte> m3) => Octet(planes, 0, m0, m1, m2);
    }

    /// <summary>Nine features (the published spectral model's): eight by the tree, the ninth on bit 3.</summary>
    private readonly struct Pick9 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Pick(byte* planes, Vector256<byte> m0, Vector256<byte> m1, Vector256<byte> m2, Vector256<byte> m3) =>
            Avx2.BlendVariable(Octet(planes, 0, m0, m1, m2), Plane(planes, 8), m3);
    }

    private readonly struct Pick16 : IPick
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<byte> Pick(byte* planes, Vector256<byte> m0, Vector256<byte> m1, Vector256<byte> m2, Vector256<byte> m3) =>
            Avx2.BlendVariable(Octet(planes, 0, m0, m1, m2), Octet(planes, 8, m0, m1, m2), m3);
    }
}
