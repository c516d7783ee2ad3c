using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Trees;

/// <summary>
/// The express lane of a single tree: in an image, most pixels end in a few leaves (the
/// clear land of a cloudless scene, the core of a cloud). Those leaves and the splits above
/// them make a small tree of at most 32 leaves, the hot tree, whose other leaves are stubs:
/// the subtrees it leaves out. The hot tree runs as leaf masks (<see cref="MaskForest"/>: a
/// compare and a masked AND per split for sixteen pixels, no gather); a pixel that ends in a
/// stub gets NaN there, and only those pixels walk the whole tree (the AVX-512 kernel
/// reading them through their packed indices), their answers put back in place. Which
/// leaves are hot is learnt from the pixels themselves: every <see cref="KeepCalls"/> calls
/// on a thread, a sample of the block walks the tree, counting how many pass each node; the
/// hot tree grows from the root by splitting the busiest stub, up to 32 leaves, and keeps
/// the size at which its splits plus the walks of the sample left in stubs cost least
/// (<see cref="WalkCostInSplits"/>). A tree small enough for leaf masks whole (the
/// published <c>fast-shadow</c>, 26 leaves) takes the hot tree only when that costs less
/// than all its splits. Every pixel gets the value the walk would give, bit for bit: the
/// hot tree's splits are the tree's own comparisons and its leaves the tree's own values.
/// <para>
/// On the clear scene the published <c>fast</c>'s busiest leaf holds 54 % of the pixels
/// and a hot tree of 32 leaves 85 % (the express lane was a box test of the busiest leaf
/// before); its trees went from 6.2-6.9 to 4.6-5.1 ns per pixel on one thread.
/// </para>
/// </summary>
internal sealed partial class LevelForest
{
    /// <summary>Pixels walked to grow the hot tree.</summary>
    private const int Samples = 128;

    /// <summary>
    /// What walking one pixel costs per level of the tree, in splits of a hot tree tested
    /// for one pixel (the AVX-512 walk of the published <c>fast</c>: about 1.2 ns per level
    /// per pixel walked; a leaf-mask split, about 0.065 ns per pixel).
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
        if (!Express || _roots.Length != 1 || count < 256 || Kernel != TreeKernel.Avx512Masks
            || !MaskForest.IsHardwareSupported || !Avx512F.VL.IsSupported || _pairs is null || FeatureCount > 32)
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

        var walked = Split(hot, planes, stride, count, dest, state);
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
        return _aggregation == Aggregation.SumSigmoid ? TreeEnsemble.Sigmoid(v) : v;
    }

    /// <summary>
    /// The hot tree of <see cref="Samples"/> pixels spread over the block, or null when no
    /// hot tree beats walking them all (or, for a tree of at most 32 leaves, its whole masks).
    /// </summary>
    private unsafe MaskForest? PickHotTree(ReadOnlySpan<float> planes, int stride, int count, ExpressState state)
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

        // The hot tree: the tree's splits and leaf values, NaN in the stubs, built through a
        // view of the tree (no copy of its nodes); the marks are cleared for the next look.
        var hot = state.HotSplits(_nodes.Length);
        for (var k = 0; k < bestSplits; k++)
        {
            hot[order[k]] = true;
        }

        var masks = MaskForest.TryCreate(new HotTreeView(this, hot), root, FeatureCount);
        for (var k = 0; k < bestSplits; k++)
        {
            hot[order[k]] = false;
        }

        return masks;

        int Busy(int node) => _nodes[node].Left != node && visits[node - root] > 0 ? visits[node - root] : -1;

        // Per pixel, in splits: the hot tree's, and the walks of the sample's pixels it misses.
        double Cost(int splits, int hits) => splits + (WalkCostInSplits * _depths[0] * (Samples - hits) / Samples);
    }

    /// <summary>
    /// The hot tree for every whole sixteen pixels; the indices of the pixels it leaves in a
    /// stub (NaN), and of the last few, are packed (a multiple of 32, the last one repeated),
    /// those pixels walked in place and their values put back. Returns how many were walked.
    /// </summary>
    private unsafe int Split(MaskForest hot, ReadOnlySpan<float> planes, int stride, int count, Span<float> dest, ExpressState state)
    {
        // The hot tree's leaves hold finished values; -0 + v is v, bit for bit.
        var full = count & ~(MaskForest.Lanes - 1);
        dest = dest[..count];
        dest.Fill(-0f);
        hot.Accumulate(planes, stride, full, dest);

        // Room for a multiple of 32 indices, and 16 more for the last block's store.
        var capacity = ((count + 31) & ~31) + 16;
        state.Reserve(capacity);
        var walked = 0;
        fixed (float* d = dest)
        fixed (int* index = state.Index)
        fixed (float* values = state.Values)
        {
            for (var i = 0; i < full; i += 16)
            {
                var v = Vector512.Load(d + i);
                var stub = ~Vector512.Equals(v, v).AsInt32();
                if (stub != Vector512<int>.Zero)
                {
                    Vector512.Store(Avx512F.Compress(Vector512<int>.Zero, stub, Vector512<int>.Indices + Vector512.Create(i)), index + walked);
                    walked += BitOperations.PopCount(stub.ExtractMostSignificantBits());
                }
            }

            // The last pixels (fewer than 16) all walk.
            for (var i = full; i < count; i++)
            {
                index[walked++] = i;
            }

            if (walked > 0)
            {
                // The kernel takes 32 pixels at a time: the padding repeats the last pixel.
                var padded = (walked + 31) & ~31;
                for (var k = walked; k < padded; k++)
                {
                    index[k] = index[walked - 1];
                }

                new Span<float>(values, padded).Fill(StartMargin);
                AccumulateAvx512<Yes>(planes, stride, index, padded, new Span<float>(values, padded));
                var sigmoid = _aggregation == Aggregation.SumSigmoid;
                for (var k = 0; k < walked; k++)
                {
                    d[index[k]] = sigmoid ? TreeEnsemble.Sigmoid(values[k]) : values[k];
                }
            }
        }

        return walked;
    }

    /// <summary>The tree as its hot tree: the marked splits; every other node a leaf, finished, or a stub (NaN).</summary>
    private readonly struct HotTreeView(LevelForest forest, bool[] split) : ITreeView
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
            return n.Left == node ? forest.Finish(n.Leaf) : float.NaN;
        }
    }

    /// <summary>One thread's hot tree for one forest, and the buffers its packed pixels pass through.</summary>
    private sealed class ExpressState
    {
        public LevelForest? Owner { get; set; }

        public MaskForest? Hot { get; set; }

        public int Countdown { get; set; }

        public int[]? Index { get; private set; }

        public float[]? Values { get; private set; }

        private int[]? _visits;

        private bool[]? _hotSplits;

        /// <summary>A count per node of the tree, all zero (whoever counts clears it after).</summary>
        public int[] Visits(int nodes) => _visits is { } v && v.Length == nodes ? v : _visits = new int[nodes];

        /// <summary>A mark per node of the tree, all clear (whoever marks clears it after).</summary>
        public bool[] HotSplits(int nodes) => _hotSplits is { } h && h.Length == nodes ? h : _hotSplits = new bool[nodes];

        /// <summary>Grows the buffers; never shrinks them.</summary>
        public void Reserve(int capacity)
        {
            if (Index is null || Index.Length < capacity)
            {
                Index = new int[capacity];
                Values = new float[capacity];
            }
        }
    }
}
