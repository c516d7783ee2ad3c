using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Trees;

/// <summary>
/// The express lane of a single tree: in an image, most pixels end in a few leaves (the
/// clear land of a cloudless scene, the core of a cloud). Those leaves and the splits above
/// them make a small tree of at most 32 leaves, the hot tree, whose other leaves are stubs:
/// the subtrees it leaves out. The hot tree runs as leaf masks (<see cref="MaskForest"/>: a
/// compare and a masked AND per split for sixteen pixels, no gather); a pixel that ends in a
/// stub gets NaN there, carrying the stub's number. Only those pixels walk, packed by stub
/// in groups of eight, each group from its stub through the stub's subtree (kept, for every
/// split of the tree, as a tree of its own with its first five levels in register tables),
/// four groups of any stubs at a time; their answers are put back in place. Which leaves
/// are hot is learnt from the pixels themselves: every <see cref="KeepCalls"/> calls on a
/// thread, a sample of the block walks the tree, counting how many pass each node; the hot
/// tree grows from the root by splitting the busiest stub, up to 32 leaves, and keeps the
/// size at which its splits plus the walks of the sample left in stubs cost least
/// (<see cref="WalkCostInSplits"/>). A tree small enough for leaf masks whole (the
/// published <c>fast-shadow</c>, 26 leaves) takes the hot tree only when that costs less
/// than all its splits. Every pixel gets the value the walk would give, bit for bit: the
/// hot tree's splits are the tree's own comparisons, its leaves the tree's own values, and
/// a stub's subtree the tree's own nodes.
/// <para>
/// On the clear scene the published <c>fast</c>'s busiest leaf holds 54 % of the pixels
/// and a hot tree of 32 leaves 85 % (the express lane was a box test of the busiest leaf
/// before); its trees went from 6.2-6.9 to 4.6-5.1 ns per pixel on one thread. Walking
/// from the stubs instead of the root took a 2048-pixel call (BenchmarkDotNet) from
/// 7.2-7.8 to 6.3-6.5 us.
/// </para>
/// <para>
/// Not more than 32 leaves: grown the same way on the clear scene's visit counts, a hot tree
/// of 64 leaves would catch 90.0 % of the pixels and one of 128 94.8 %, against 84.5 % at 32.
/// Its masks would need 64-bit lanes, eight pixels a vector, for twice the splits: four times
/// the hot tree's cost (5 % of perf's samples of <c>fast</c> on one thread) to walk
/// about a third fewer pixels. Not built.
/// </para>
/// </summary>
internal sealed partial class LevelForest
{
    /// <summary>Pixels walked to grow the hot tree.</summary>
    private const int Samples = 128;

    /// <summary>
    /// What walking one pixel costs per level of the whole tree, in splits of a hot tree
    /// tested for one pixel (first measured for walks from the root: about 1.2 ns per level
    /// per pixel walked against 0.065 ns per split). Walks now start at their stub, but
    /// charging each stub's own height instead measured slower (trees 4.22-4.59 against
    /// 4.15-4.22 ns per pixel), and 10 to 24 here measured within the noise.
    /// </summary>
    private const double WalkCostInSplits = 18;

    /// <summary>
    /// Calls between two looks for a hot tree: after one is taken, and after none was found.
    /// A look (the sample's walks, the growth, the leaf masks) takes about 10 us on one
    /// thread of this project's Xeon, where a call of <c>fast</c>'s 2048 pixels takes about 8.
    /// </summary>
    private const int KeepCalls = 64, RetryCalls = 16;

    [ThreadStatic]
    private static ExpressState? t_express;

    [ThreadStatic]
    private static long t_expressCalls;

    /// <summary>On by default; tests and benchmarks switch it off to compare.</summary>
    internal static bool Express { get; set; } = true;

    /// <summary>Calls this thread has answered through the express lane (tests check that it ran).</summary>
    internal static long ExpressCallsOnThisThread => t_expressCalls;

    /// <summary>
    /// Predicts through the express lane when this forest is a single tree, the leaf-mask
    /// kernel is on and runs here, and a hot tree is known; false (nothing written) otherwise.
    /// </summary>
    private bool TryExpress(ReadOnlySpan<float> planes, int stride, int count, Span<float> dest)
    {
        // The subtrees are made only for a single tree, packed for the walk, where leaf masks run.
        if (!Express || _subtrees is null || count < 256 || Kernel != TreeKernel.Masks
            || !(Avx512F.VL.IsSupported || Avx2.IsSupported) || FeatureCount > 32)
        {
            return false;
        }

        var state = t_express ??= new ExpressState();
        if (state.Owner != this)
        {
            (state.Owner, state.Hot, state.Countdown) = (this, null, 0);
        }

        if (--state.Countdown <= 0)
        {
            state.Hot = PickHotTree(planes, stride, count, state);
            state.Countdown = state.Hot is null ? RetryCalls : KeepCalls;
        }

        if (state.Hot is not { } hot)
        {
            return false;
        }

        var walked = Avx512F.VL.IsSupported && UseAvx512
            ? Split(hot, planes, stride, count, dest, state)
            : Split256(hot, planes, stride, count, dest, state);
        t_expressCalls++;

        // A hot tree that catches fewer than one pixel in eight costs more than it saves.
        if (walked * 8 > count * 7)
        {
            state.Hot = null;
            state.Countdown = RetryCalls;
        }

        return true;
    }

    /// <summary>What <see cref="Predict"/> writes for a pixel that ends in a leaf of this value (one tree).</summary>
    private float Finish(float leaf)
    {
        var v = StartMargin + leaf;
        return _aggregation == Aggregation.SumSigmoid ? Logistic.Of(v) : v;
    }

    /// <summary>
    /// The hot tree of <see cref="Samples"/> pixels spread over the block, or null when no
    /// hot tree beats walking them all (or, for a tree of at most 32 leaves, its whole masks).
    /// </summary>
    private unsafe HotTree? PickHotTree(ReadOnlySpan<float> planes, int stride, int count, ExpressState state)
    {
        var root = _roots[0];
        var visits = state.Visits(_nodes.Length - root);
        var depth = _depths[0];

        // Eight walks side by side, so their loads overlap.
        const int Chains = 8;
        var at = stackalloc int[Chains];
        var pixel = stackalloc int[Chains];
        fixed (float* x = planes)
        fixed (Node* tree = _nodes)
        fixed (int* passed = visits)
        {
            for (var s0 = 0; s0 < Samples; s0 += Chains)
            {
                for (var l = 0; l < Chains; l++)
                {
                    (at[l], pixel[l]) = (root, (int)((long)(s0 + l) * count / Samples));
                }

                passed[0] += Chains;
                for (var d = 0; d < depth; d++)
                {
                    for (var l = 0; l < Chains; l++)
                    {
                        var n = tree + at[l];
                        if (n->Left != at[l])
                        {
                            var right = x[(n->Feature * stride) + pixel[l]] > n->Threshold;
                            at[l] = n->Left + *(byte*)&right;
                            passed[at[l] - root]++;
                        }
                    }
                }
            }
        }

        // Grow from the root: split the stub most of the sample passes, while leaves are left,
        // and keep the size where splits plus walks cost least.
        var order = stackalloc int[MaskForest.MaxLeaves];
        var stubs = stackalloc int[MaskForest.MaxLeaves];

        // Per stub, the sample's pixels that pass it when it can be split, else -1.
        var busy = stackalloc int[MaskForest.MaxLeaves];
        var (splits, open) = (0, 1);
        (stubs[0], busy[0]) = (root, visits[0]);
        var (caught, bestCaught, bestSplits) = (0, 0, 0);
        while (open < MaskForest.MaxLeaves)
        {
            var best = 0;
            for (var k = 1; k < open; k++)
            {
                best = busy[k] > busy[best] ? k : best;
            }

            if (busy[best] <= 0)
            {
                break;
            }

            var node = stubs[best];
            order[splits++] = node;
            var left = _nodes[node].Left;
            (stubs[best], busy[best]) = (left, Busy(left));
            (stubs[open], busy[open]) = (left + 1, Busy(left + 1));
            open++;
            caught += (_nodes[left].Left == left ? visits[left - root] : 0) + (_nodes[left + 1].Left == left + 1 ? visits[left + 1 - root] : 0);
            if (Cost(splits, caught) < Cost(bestSplits, bestCaught))
            {
                (bestCaught, bestSplits) = (caught, splits);
            }
        }

        // The counts are done with: cleared for the next look.
        Array.Clear(visits);

        // A tree small enough for leaf masks whole costs its splits and no walk at all.
        var treeSplits = (_nodes.Length - root - 1) / 2;
        if (bestSplits == 0 || (_masks is not null && Cost(bestSplits, bestCaught) >= treeSplits))
        {
            return null;
        }

        // The hot tree: the tree's splits and finished leaf values, in the stubs NaN carrying
        // the stub's number, built through a view of the tree (no copy of its nodes); the
        // marks are cleared for the next look.
        var hot = state.HotSplits(_nodes.Length);
        for (var k = 0; k < bestSplits; k++)
        {
            hot[order[k]] = true;
        }

        var stubNodes = new List<int>(MaskForest.MaxLeaves);
        var masks = MaskForest.TryCreate(new HotTreeView(this, hot, stubNodes), root, FeatureCount);
        for (var k = 0; k < bestSplits; k++)
        {
            hot[order[k]] = false;
        }

        return masks is null ? null : new HotTree(masks, [.. stubNodes]);

        int Busy(int node) => _nodes[node].Left != node && visits[node - root] > 0 ? visits[node - root] : -1;

        // Per pixel, in splits: the hot tree's, and the walks of the sample's pixels it misses.
        double Cost(int splits, int hits) => splits + (WalkCostInSplits * _depths[0] * (Samples - hits) / Samples);
    }

    /// <summary>
    /// The hot tree for every whole sixteen pixels. The pixels it leaves in a stub (NaN,
    /// carrying the stub's number), and the last few, are packed by stub in runs of whole
    /// groups of eight (the run's last pixel repeated), every group walked from its stub
    /// through that stub's subtree (<see cref="WalkGroups"/>), the last few through the whole
    /// tree, and their values put back in place. Returns how many were walked.
    /// <para>
    /// Where the published <c>fast</c>'s trees spend their 2.7 ns per pixel (one thread, 4 Mpx,
    /// each part timed by leaving out what follows it): the hot tree's masks 0.8, finding the
    /// stub pixels 0.45, packing and putting back 0.45, the walks 1.2. Measured slower, so not
    /// kept: the packing as a counting sort (a histogram of the walks, then each pixel scattered
    /// to its run; trees 2.89-2.93 against 2.66-2.73, likely as neighbouring pixels share a stub
    /// and so chain the scalar loops through one counter), and the stub pixels found by a loop
    /// over each vector's mask bits instead of the two compressed stores (3.02-3.16 against
    /// 2.66-2.69).
    /// </para>
    /// </summary>
    private unsafe int Split(HotTree hot, ReadOnlySpan<float> planes, int stride, int count, Span<float> dest, ExpressState state)
    {
        var full = RunHotTree(hot, planes, stride, count, dest, state);

        // Walk s < Stubs.Length starts at stub s; walk Stubs.Length, the last few, at the root.
        var (subtrees, treeOf) = _subtrees!.Value;
        var walks = hot.Stubs.Length + 1;
        var walked = 0;
        var present = Vector512<int>.Zero;
        fixed (float* d = dest)
        fixed (int* index = state.Index)
        fixed (int* ids = state.Ids)
        fixed (int* sorted = state.Sorted)
        fixed (int* groupTree = state.GroupTrees)
        fixed (float* values = state.Values)
        {
            for (var i = 0; i < full; i += 16)
            {
                var v = Vector512.Load(d + i);
                var stub = ~Vector512.Equals(v, v).AsInt32();
                if (stub != Vector512<int>.Zero)
                {
                    var id = v.AsInt32() & Vector512.Create(StubMask);
                    present |= stub & Avx512F.ShiftLeftLogicalVariable(Vector512<int>.One, id.AsUInt32());
                    Vector512.Store(Avx512F.Compress(Vector512<int>.Zero, stub, Vector512<int>.Indices + Vector512.Create(i)), index + walked);
                    Vector512.Store(Avx512F.Compress(Vector512<int>.Zero, stub, id), ids + walked);
                    walked += BitOperations.PopCount(stub.ExtractMostSignificantBits());
                }
            }

            // Which walks have pixels: bit s for walk s.
            var half = present.GetLower() | present.GetUpper();
            var quarter = half.GetLower() | half.GetUpper();
            var runs = (ulong)(uint)(quarter[0] | quarter[1] | quarter[2] | quarter[3]);
            runs |= FromRoot(index, ids, ref walked, full, count, walks);

            if (walked == 0)
            {
                return 0;
            }

            Vector512.Store(Vector512<int>.AllBitsSet, ids + walked);

            // Packed by walk: per walk, one compressed store per sixteen packed pixels.
            var packed = 0;
            var groups = 0;
            for (; runs != 0; runs &= runs - 1)
            {
                var s = BitOperations.TrailingZeroCount(runs);
                var wanted = Vector512.Create(s);
                var n = 0;
                for (var k = 0; k < walked; k += 16)
                {
                    var mine = Vector512.Equals(Vector512.Load(ids + k), wanted);
                    Vector512.Store(Avx512F.Compress(Vector512<int>.Zero, mine, Vector512.Load(index + k)), sorted + packed + n);
                    n += BitOperations.PopCount(mine.ExtractMostSignificantBits());
                }

                packed += CloseRun(sorted + packed, n, treeOf[s < hot.Stubs.Length ? hot.Stubs[s] : _roots[0]], groupTree, ref groups);
            }

            WalkAndPutBack(subtrees, planes, stride, d, sorted, packed, groupTree, groups, values, avx2: false);
        }

        return walked;
    }

    /// <summary>
    /// The hot tree's leaf masks over the call's whole vectors (its leaves hold finished
    /// values; -0 + v is v, bit for bit) and the buffers for its stubs' walks; returns the
    /// pixels in those vectors.
    /// </summary>
    private static int RunHotTree(HotTree hot, ReadOnlySpan<float> planes, int stride, int count, Span<float> dest, ExpressState state)
    {
        var full = count & ~(MaskForest.Lanes - 1);
        dest = dest[..count];
        dest.Fill(-0f);
        hot.Masks.Accumulate(planes, stride, full, dest);
        state.Reserve(count, hot.Stubs.Length + 1);
        return full;
    }

    /// <summary>The pixels [full, count) past the leaf masks' vectors, added to the walk from the root (the last); returns its bit for the runs, if any.</summary>
    private static unsafe ulong FromRoot(int* index, int* ids, ref int walked, int full, int count, int walks)
    {
        for (var i = full; i < count; i++)
        {
            (index[walked], ids[walked]) = (i, walks - 1);
            walked++;
        }

        return full < count ? 1UL << (walks - 1) : 0;
    }

    /// <summary>
    /// Ends a walk's run of <paramref name="n"/> packed pixels at <paramref name="run"/>: pads
    /// it to a multiple of eight with copies of its last pixel and gives each group of eight
    /// the walk's <paramref name="tree"/>; returns the padded length.
    /// </summary>
    private static unsafe int CloseRun(int* run, int n, int tree, int* groupTree, ref int groups)
    {
        var padded = (n + 7) & ~7;
        for (var k = n; k < padded; k++)
        {
            run[k] = run[n - 1];
        }

        for (var k = 0; k < padded; k += 8)
        {
            groupTree[groups++] = tree;
        }

        return padded;
    }

    /// <summary>
    /// Walks the packed groups (more copies of the last group first, as the kernels take four
    /// at a time), with AVX2 only where <paramref name="avx2"/>, and puts their values back in
    /// place in <paramref name="d"/> (the padding repeats pixels with the same values).
    /// </summary>
    private static unsafe void WalkAndPutBack(LevelForest subtrees, ReadOnlySpan<float> planes, int stride, float* d, int* sorted, int packed, int* groupTree, int groups, float* values, bool avx2)
    {
        for (; (groups & 3) != 0; groups++)
        {
            groupTree[groups] = groupTree[groups - 1];
            Vector256.Store(Vector256.Load(sorted + packed - 8), sorted + packed);
            packed += 8;
        }

        if (avx2)
        {
            subtrees.WalkGroups256(planes, stride, sorted, groupTree, groups, values);
        }
        else
        {
            subtrees.WalkGroups(planes, stride, sorted, groupTree, groups, values);
        }

        for (var k = 0; k < packed; k++)
        {
            d[sorted[k]] = values[k];
        }
    }

    /// <summary>Off takes the AVX2 express lane where AVX-512 would run (tests check both on AVX-512 machines).</summary>
    internal static bool UseAvx512 { get; set; } = true;

    /// <summary>
    /// <see cref="Split"/> for processors without AVX-512: the hot tree's leaf masks eight
    /// pixels a vector (<see cref="MaskForest"/>'s AVX2 kernel), the stub pixels and the
    /// packing by walk left-packed by a permute from <see cref="LeftPack"/> instead of
    /// compressed stores, the walks by <see cref="WalkGroups256"/>.
    /// <para>
    /// Where the time goes on the Zen 3 EPYC (one thread, 4 Mpx, each part timed by the
    /// clock around it, two runs): for <c>fast</c>'s mask path (the cut tree; hot trees of
    /// 12.8 splits on average, 6.1 % of the pixels walked) the hot tree 1.56 and 1.48 ns per
    /// pixel, finding the stub pixels 0.39 and 0.37, packing 0.18 and 0.18, walks and putting
    /// back 1.06 and 0.96; for its probabilities (25.8 splits, 19.5 % walked) 2.86, 0.73, 0.75
    /// and 2.34. Measured there and not kept:
    /// the stub pixels walked node by node from their stubs, eight side by side, without
    /// packing (trees 4.78, 4.99, 5.21 and 4.32 ns per pixel against 3.11, 3.87, 3.05 and 3.87,
    /// alternating; the last two with an early end when no walk moved);
    /// finding the stub pixels without a branch, every vector left-packed (0.415 and 0.424
    /// ns per pixel against 0.351 and 0.382); the hot tree's values written instead of added
    /// to -0 and its stub pixels listed as each vector is made, not in a pass after (the
    /// whole express lane, one thread, three alternating rounds: the mask path 2.62, 2.85
    /// and 3.36 ns per pixel against 3.30, 2.76 and 2.87; the probabilities 7.36, 5.85 and
    /// 6.93 against 6.02, 5.48 and 5.61). Four groups step to the deepest of their
    /// subtrees, only 5 % more levels than their own depths (the mask path's walks 8,034,268
    /// group-levels against 7,641,429): sorting the groups by depth could save no more, so
    /// it is not built.
    /// </para>
    /// </summary>
    private unsafe int Split256(HotTree hot, ReadOnlySpan<float> planes, int stride, int count, Span<float> dest, ExpressState state)
    {
        var full = RunHotTree(hot, planes, stride, count, dest, state);

        // Walk s < Stubs.Length starts at stub s; walk Stubs.Length, the last few, at the root.
        var (subtrees, treeOf) = _subtrees!.Value;
        var walks = hot.Stubs.Length + 1;
        var walked = 0;
        var present = Vector256<int>.Zero;
        fixed (int* pack = LeftPack)
        fixed (float* d = dest)
        fixed (int* index = state.Index)
        fixed (int* ids = state.Ids)
        fixed (int* sorted = state.Sorted)
        fixed (int* groupTree = state.GroupTrees)
        fixed (float* values = state.Values)
        {
            for (var i = 0; i < full; i += 8)
            {
                var v = Vector256.Load(d + i);
                var stub = ~Vector256.Equals(v, v).AsInt32();
                var bits = stub.ExtractMostSignificantBits();
                if (bits != 0)
                {
                    var id = v.AsInt32() & Vector256.Create(StubMask);
                    present |= stub & Avx2.ShiftLeftLogicalVariable(Vector256<int>.One, id.AsUInt32());
                    var order = Vector256.Load(pack + (bits * 8));
                    Avx2.PermuteVar8x32(Vector256<int>.Indices + Vector256.Create(i), order).Store(index + walked);
                    Avx2.PermuteVar8x32(id, order).Store(ids + walked);
                    walked += BitOperations.PopCount(bits);
                }
            }

            // Which walks have pixels: bit s for walk s.
            var half = present.GetLower() | present.GetUpper();
            var runs = (ulong)(uint)(half[0] | half[1] | half[2] | half[3]);
            runs |= FromRoot(index, ids, ref walked, full, count, walks);

            if (walked == 0)
            {
                return 0;
            }

            Vector256.Store(Vector256<int>.AllBitsSet, ids + walked);

            // Packed by walk: per walk, one left-packing permute per eight packed pixels.
            var packed = 0;
            var groups = 0;
            for (; runs != 0; runs &= runs - 1)
            {
                var s = BitOperations.TrailingZeroCount(runs);
                var wanted = Vector256.Create(s);
                var n = 0;
                for (var k = 0; k < walked; k += 8)
                {
                    var mine = Vector256.Equals(Vector256.Load(ids + k), wanted).ExtractMostSignificantBits();
                    Avx2.PermuteVar8x32(Vector256.Load(index + k), Vector256.Load(pack + (mine * 8))).Store(sorted + packed + n);
                    n += BitOperations.PopCount(mine);
                }

                packed += CloseRun(sorted + packed, n, treeOf[s < hot.Stubs.Length ? hot.Stubs[s] : _roots[0]], groupTree, ref groups);
            }

            WalkAndPutBack(subtrees, planes, stride, d, sorted, packed, groupTree, groups, values, avx2: true);
        }

        return walked;
    }

    /// <summary>
    /// Per 8-bit lane mask m, the permute that moves m's lanes to the front in order (the
    /// rest after them): AVX2's stand-in for AVX-512's compressed store.
    /// </summary>
    private static readonly int[] LeftPack = MakeLeftPack();

    private static int[] MakeLeftPack()
    {
        var table = new int[256 * 8];
        for (var m = 0; m < 256; m++)
        {
            var n = 0;
            for (var lane = 0; lane < 8; lane++)
            {
                if ((m >> lane & 1) != 0)
                {
                    table[(m * 8) + n++] = lane;
                }
            }

            for (var lane = 0; lane < 8; lane++)
            {
                if ((m >> lane & 1) == 0)
                {
                    table[(m * 8) + n++] = lane;
                }
            }
        }

        return table;
    }

    /// <summary>
    /// <see cref="WalkGroups"/> with AVX2 only: the first five levels from the tree's 32-entry
    /// tables by 8-entry permutes (<see cref="Permute32"/>), deeper levels by one 64-bit gather
    /// per four pixels (<see cref="PairStep256"/>).
    /// </summary>
    private unsafe void WalkGroups256(ReadOnlySpan<float> planes, int stride, int* index, int* groupTree, int groups, float* values)
    {
        var strideV = Vector256.Create(stride);
        fixed (float* x = planes)
        fixed (long* pairs = _pairs)
        fixed (float* leaves = _leaves)
        fixed (float* tables = _tables)
        {
            for (var g = 0; g < groups; g += 4)
            {
                var (t0, t1, t2, t3) = (groupTree[g], groupTree[g + 1], groupTree[g + 2], groupTree[g + 3]);
                var (p0, p1, p2, p3) = (Avx.LoadVector256(index + (g * 8)), Avx.LoadVector256(index + (g * 8) + 8), Avx.LoadVector256(index + (g * 8) + 16), Avx.LoadVector256(index + (g * 8) + 24));
                Vector256<int> n0 = default, n1 = default, n2 = default, n3 = default;
                var depth = Math.Max(Math.Max(_depths[t0], _depths[t1]), Math.Max(_depths[t2], _depths[t3]));
                for (var d = 0; d < Math.Min(depth, 5); d++)
                {
                    // Level d's nodes are the first 2^(d+1) - 1.
                    var entries = (2 << d) - 1;
                    n0 = TableStep256(x, strideV, tables + (t0 * 64), p0, n0, entries);
                    n1 = TableStep256(x, strideV, tables + (t1 * 64), p1, n1, entries);
                    n2 = TableStep256(x, strideV, tables + (t2 * 64), p2, n2, entries);
                    n3 = TableStep256(x, strideV, tables + (t3 * 64), p3, n3, entries);
                }

                for (var d = 5; d < depth; d++)
                {
                    n0 = PairStep256(pairs + _roots[t0], x, strideV, p0, n0);
                    n1 = PairStep256(pairs + _roots[t1], x, strideV, p1, n1);
                    n2 = PairStep256(pairs + _roots[t2], x, strideV, p2, n2);
                    n3 = PairStep256(pairs + _roots[t3], x, strideV, p3, n3);
                }

                var to = values + (g * 8);
                Avx.Store(to, Avx2.GatherVector256(leaves + _roots[t0], n0, 4));
                Avx.Store(to + 8, Avx2.GatherVector256(leaves + _roots[t1], n1, 4));
                Avx.Store(to + 16, Avx2.GatherVector256(leaves + _roots[t2], n2, 4));
                Avx.Store(to + 24, Avx2.GatherVector256(leaves + _roots[t3], n3, 4));
            }
        }
    }

    /// <summary>One of the first five levels for eight packed pixels: the node from the tree's tables (32 thresholds, then 32 packed words).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> TableStep256(float* x, Vector256<int> stride, float* table, Vector256<int> pixel, Vector256<int> node, int entries) =>
        Next256(x, stride, pixel, Permute32.Look(table, node, entries), Permute32.Look(table + 32, node, entries).AsInt32());

    /// <summary>A deeper level for eight packed pixels: threshold and packed word with one 64-bit gather per four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> PairStep256(long* nodes, float* x, Vector256<int> stride, Vector256<int> pixel, Vector256<int> node)
    {
        // [t0 p0 t1 p1 | t2 p2 t3 p3] and [t4 p4 t5 p5 | t6 p6 t7 p7]: even words are the
        // thresholds, odd the packed words; a shuffle takes them lane by lane, a 64-bit
        // permute puts the pairs in order.
        var lo = Avx2.GatherVector256(nodes, node.GetLower(), 8).AsSingle();
        var hi = Avx2.GatherVector256(nodes, node.GetUpper(), 8).AsSingle();
        var th = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
        var pk = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsInt32();
        return Next256(x, stride, pixel, th, pk);
    }

    /// <summary><c>left + (x[feature] &gt; threshold)</c> for eight packed pixels: the value gathered at feature * stride + pixel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Next256(float* x, Vector256<int> stride, Vector256<int> pixel, Vector256<float> th, Vector256<int> pk)
    {
        var v = Avx2.GatherVector256(x, Avx2.MultiplyLow(pk & Vector256.Create(0xFF), stride) + pixel, 4);

        // The compare gives -1 in lanes that go right: subtracting it adds one.
        return Vector256.ShiftRightLogical(pk, 8) - Avx.CompareGreaterThan(v, th).AsInt32();
    }

    /// <summary>
    /// The leaf values of groups of eight packed pixels, group g walked through tree
    /// <c>groupTree[g]</c>: four groups at a time, each with its own tree, the first five
    /// levels from its tree's register tables, the rest by gathers.
    /// </summary>
    private unsafe void WalkGroups(ReadOnlySpan<float> planes, int stride, int* index, int* groupTree, int groups, float* values)
    {
        var (offLo, offHi) = FeatureOffsets(stride);
        fixed (float* x = planes)
        fixed (long* pairs = _pairs)
        fixed (float* leaves = _leaves)
        fixed (float* tables = _tables)
        {
            for (var g = 0; g < groups; g += 4)
            {
                var (t0, t1, t2, t3) = (groupTree[g], groupTree[g + 1], groupTree[g + 2], groupTree[g + 3]);
                var (p0, p1, p2, p3) = (Avx.LoadVector256(index + (g * 8)), Avx.LoadVector256(index + (g * 8) + 8), Avx.LoadVector256(index + (g * 8) + 16), Avx.LoadVector256(index + (g * 8) + 24));
                Vector256<int> n0 = default, n1 = default, n2 = default, n3 = default;
                var depth = Math.Max(Math.Max(_depths[t0], _depths[t1]), Math.Max(_depths[t2], _depths[t3]));
                for (var d = 0; d < Math.Min(depth, 5); d++)
                {
                    TableStep<Yes>(x, offLo, offHi, stride, tables + (t0 * 64), p0, ref n0);
                    TableStep<Yes>(x, offLo, offHi, stride, tables + (t1 * 64), p1, ref n1);
                    TableStep<Yes>(x, offLo, offHi, stride, tables + (t2 * 64), p2, ref n2);
                    TableStep<Yes>(x, offLo, offHi, stride, tables + (t3 * 64), p3, ref n3);
                }

                for (var d = 5; d < depth; d++)
                {
                    PairStep<Yes>(pairs + _roots[t0], x, offLo, offHi, stride, p0, ref n0);
                    PairStep<Yes>(pairs + _roots[t1], x, offLo, offHi, stride, p1, ref n1);
                    PairStep<Yes>(pairs + _roots[t2], x, offLo, offHi, stride, p2, ref n2);
                    PairStep<Yes>(pairs + _roots[t3], x, offLo, offHi, stride, p3, ref n3);
                }

                var to = values + (g * 8);
                Avx.Store(to, Avx2.GatherVector256(leaves + _roots[t0], n0, 4));
                Avx.Store(to + 8, Avx2.GatherVector256(leaves + _roots[t1], n1, 4));
                Avx.Store(to + 16, Avx2.GatherVector256(leaves + _roots[t2], n2, 4));
                Avx.Store(to + 24, Avx2.GatherVector256(leaves + _roots[t3], n3, 4));
            }
        }
    }

    /// <summary>
    /// The most subtree nodes per node of a tree for which <see cref="Subtrees"/> are made: as
    /// many as a complete tree 64 deep has (the published <c>fast</c>, 1,365 nodes 11 deep,
    /// has 13,268, about 10 per node).
    /// </summary>
    private const int SubtreeNodesPerNode = 64;

    /// <summary>The most subtree nodes in all (about 30 MB of them): a bigger tree takes the plain walk.</summary>
    private const long MaxSubtreeNodes = 1 << 20;

    /// <summary>The payload bits of a stub's NaN that hold its number (a hot tree has at most 32 leaves).</summary>
    private const int StubMask = 0x3F;

    /// <summary>What a hot tree's stub number <paramref name="stub"/> holds: a quiet NaN carrying the number.</summary>
    private static float StubMark(int stub) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(float.NaN) | stub);

    /// <summary>
    /// The subtrees under this single tree's splits, each a tree of one forest (see
    /// <see cref="_subtrees"/>); null when their nodes would number more than
    /// <see cref="SubtreeNodesPerNode"/> per node of the tree (a deep, thin tree) or
    /// <see cref="MaxSubtreeNodes"/> in all, or outgrow the walk's packing.
    /// </summary>
    private (LevelForest Forest, int[] TreeOf)? Subtrees()
    {
        // Nodes under each node, children after their parent (breadth-first).
        var size = new long[_nodes.Length];
        long total = 0;
        for (var i = _nodes.Length - 1; i >= 0; i--)
        {
            var left = _nodes[i].Left;
            size[i] = left == i ? 1 : 1 + size[left] + size[left + 1];
            total += left == i ? 0 : size[i];
        }

        // A tree that is one leaf has no splits to start from (and no use for the lane).
        if (total == 0 || total > Math.Min(SubtreeNodesPerNode * (long)_nodes.Length, MaxSubtreeNodes))
        {
            return null;
        }

        var treeOf = new int[_nodes.Length];
        var nodes = new List<TreeNode>();
        var leaves = new List<float>();
        var roots = new List<int>();
        for (var i = 0; i < _nodes.Length; i++)
        {
            treeOf[i] = _nodes[i].Left == i ? -1 : roots.Count;
            if (treeOf[i] >= 0)
            {
                roots.Add(Add(i));
            }
        }

        var forest = new LevelForest(
            new TreeEnsemble("subtrees", FeatureCount, [.. nodes], new bool[nodes.Count], [.. leaves], [.. roots], Aggregation.Sum, 0),
            otherKernels: false);
        return forest._pairs is null ? null : (forest, treeOf);

        int Add(int at)
        {
            var n = _nodes[at];
            if (n.Left == at)
            {
                leaves.Add(Finish(n.Leaf));
                return ~(leaves.Count - 1);
            }

            var split = nodes.Count;
            nodes.Add(default);
            var left = Add(n.Left);
            var right = Add(n.Left + 1);
            nodes[split] = new TreeNode(n.Feature, n.Threshold, left, right);
            return split;
        }
    }

    /// <summary>A hot tree as leaf masks, and per stub (by number) the node it stands for.</summary>
    private sealed record HotTree(MaskForest Masks, int[] Stubs);

    /// <summary>
    /// The tree as its hot tree: the marked splits; every other node a leaf, finished, or a
    /// stub, numbered in the order the leaves are read (left to right) into <paramref name="stubs"/>.
    /// </summary>
    private readonly struct HotTreeView(LevelForest forest, bool[] split, List<int> stubs) : ITreeView
    {
        public bool IsLeaf(int node) => !split[node];

        public TreeNode Split(int node)
        {
            var n = forest._nodes[node];
            return new TreeNode(n.Feature, n.Threshold, n.Left, n.Left + 1);
        }

        public float Leaf(int node)
        {
            var n = forest._nodes[node];
            if (n.Left == node)
            {
                return forest.Finish(n.Leaf);
            }

            stubs.Add(node);
            return StubMark(stubs.Count - 1);
        }
    }

    /// <summary>One thread's hot tree for one forest, and the buffers its packed pixels pass through.</summary>
    private sealed class ExpressState
    {
        public LevelForest? Owner { get; set; }

        public HotTree? Hot { get; set; }

        public int Countdown { get; set; }

        public int[]? Index { get; private set; }

        /// <summary>Per packed pixel, its walk's number.</summary>
        public int[]? Ids { get; private set; }

        /// <summary>The packed pixels by walk, each run whole groups of eight, then whole sets of four groups.</summary>
        public int[]? Sorted { get; private set; }

        /// <summary>Per group of eight in <see cref="Sorted"/>, the tree of the subtree forest it walks.</summary>
        public int[]? GroupTrees { get; private set; }

        public float[]? Values { get; private set; }

        /// <summary>Grows the buffers for <paramref name="count"/> pixels in <paramref name="walks"/> walks; never shrinks them.</summary>
        public void Reserve(int count, int walks)
        {
            // Compressed stores write sixteen lanes past the last pixel packed; each run
            // pads to eight, and the last groups to four groups.
            var packed = count + 16;
            var runs = count + (8 * walks) + 32 + 16;
            if (Index is null || Index.Length < packed || Sorted!.Length < runs)
            {
                Index = new int[packed];
                Ids = new int[packed];
                Sorted = new int[runs];
                GroupTrees = new int[(runs / 8) + 4];
                Values = new float[runs];
            }
        }

        private int[]? _visits;

        private bool[]? _hotSplits;

        /// <summary>A count per node of the tree, all zero (whoever counts clears it after).</summary>
        public int[] Visits(int nodes) => _visits is { } v && v.Length == nodes ? v : _visits = new int[nodes];

        /// <summary>A mark per node of the tree, all clear (whoever marks clears it after).</summary>
        public bool[] HotSplits(int nodes) => _hotSplits is { } h && h.Length == nodes ? h : _hotSplits = new bool[nodes];
    }
}
