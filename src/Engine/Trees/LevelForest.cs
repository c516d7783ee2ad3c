using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;


namespace S2CloudMask.Engine.Trees;

/// <summary>
/// The trees of a <see cref="TreeEnsemble"/> re-laid out for branch-free evaluation of many
/// pixels at once: each tree breadth-first with the two children of a node side by side
/// (right = left + 1), leaves turned into absorbing nodes (threshold +inf, left = itself),
/// so every pixel takes exactly the tree's depth in steps of
/// <c>node = left[node] + (x[feature[node]] &gt; threshold[node])</c>, without a branch to
/// mispredict, 32 pixels at a time with AVX2 gathers. Only for NaN-free
/// features (the caller falls back to <see cref="TreeEnsemble.PredictBlock"/> otherwise):
/// NaN would need the per-node default direction.
/// </summary>
internal sealed partial class LevelForest
{
    private readonly Node[] _nodes;
    private readonly int[] _roots;
    private readonly int[] _depths;
    private readonly bool[] _sparse;
    private readonly long[]? _pairs;
    private readonly float[]? _leaves;
    private readonly float[]? _tables;
    private readonly Aggregation _aggregation;
    private readonly float _baseMargin;

    /// <summary>The ensemble as sixteen trees per vector, or eight with AVX2 (<see cref="TreeKernel.Lanes"/>); null where it does not suit.</summary>
    private readonly LaneForest? _lanes;

    /// <summary>The ensemble as two-byte ranks walked by register permutes (<see cref="TreeKernel.Permutes"/>); null where it does not suit.</summary>
    private readonly PermuteForest? _permutes;

    /// <summary>The ensemble as two-byte ranks walked by byte shuffles, AVX2 (<see cref="TreeKernel.Shuffles"/>); null where it does not suit.</summary>
    private readonly ShuffleForest? _shuffles;

    /// <summary>The ensemble as leaf masks (<see cref="TreeKernel.Masks"/>); null where a tree has too many leaves.</summary>
    private readonly MaskForest? _masks;

    /// <summary>
    /// For a single tree, the subtree under each of its splits as a tree of its own, all in
    /// one forest, and which of its trees is under which node (-1 under a leaf): the walks
    /// of the express lane start at a stub of the hot tree, not at the root. Their leaves
    /// hold finished values (<see cref="Finish"/>), as the hot tree's do.
    /// </summary>
    private readonly (LevelForest Forest, int[] TreeOf)? _subtrees;

    public LevelForest(TreeEnsemble ensemble)
        : this(ensemble, otherKernels: true)
    {
    }

    /// <param name="otherKernels">False: the level-stepping layout alone (the subtrees of <see cref="_subtrees"/>).</param>
    private LevelForest(TreeEnsemble ensemble, bool otherKernels)
    {
        var feature = new List<int>();
        var threshold = new List<float>();
        var left = new List<int>();
        var leaf = new List<float>();
        _roots = new int[ensemble.TreeCount];
        _depths = new int[ensemble.TreeCount];
        _sparse = new bool[ensemble.TreeCount];
        for (var t = 0; t < ensemble.TreeCount; t++)
        {
            _roots[t] = feature.Count;
            var depth = 0;

            // Breadth-first: the queue holds source nodes (>= 0 split, < 0 leaf) in output order.
            var queue = new List<(int Source, int Level)> { (ensemble.Roots[t], 0) };
            var at = feature.Count;
            for (var q = 0; q < queue.Count; q++)
            {
                var (src, level) = queue[q];
                depth = Math.Max(depth, level);
                var self = at + q;
                if (src < 0)
                {
                    feature.Add(0);
                    threshold.Add(float.PositiveInfinity);
                    left.Add(self);
                    leaf.Add(ensemble.Leaves[~src]);
                }
                else
                {
                    var n = ensemble.Nodes[src];
                    feature.Add(n.Feature);
                    threshold.Add(n.Threshold);
                    left.Add(at + queue.Count);
                    leaf.Add(0);
                    queue.Add((n.Left, level + 1));
                    queue.Add((n.Right, level + 1));
                }
            }

            _depths[t] = depth;

            // A tree with far fewer leaves than its depth allows (FastTree's 16-leaf trees of
            // depth 12) ends early for most pixels, so stepping checks for that; a dense one
            // (XGBoost's depth-9 trees) would only pay for the check (measured both ways).
            var leaves = queue.Count(q => q.Source < 0);
            _sparse[t] = depth > 4 && leaves * 4 <= 1 << depth;
        }

        _nodes = new Node[feature.Count];
        for (var i = 0; i < _nodes.Length; i++)
        {
            _nodes[i] = new Node(feature[i], threshold[i], left[i], leaf[i]);
        }
        _aggregation = ensemble.Aggregation;
        _baseMargin = ensemble.BaseMargin;
        FeatureCount = ensemble.FeatureCount;
        (_pairs, _leaves, _tables) = Pack(_nodes, _roots);
        _lanes = otherKernels && LaneForest.RunsHere ? LaneForest.TryCreate(ensemble) : null;
        _permutes = otherKernels && PermuteForest.RunsHere ? PermuteForest.TryCreate(ensemble) : null;
        _shuffles = otherKernels && ShuffleForest.RunsHere ? ShuffleForest.TryCreate(ensemble) : null;
        _masks = otherKernels && MaskForest.RunsHere ? MaskForest.TryCreate(ensemble) : null;
        _subtrees = otherKernels && _roots.Length == 1 && _pairs is not null && MaskForest.RunsHere ? Subtrees() : null;
    }

    /// <summary>
    /// The layout of <see cref="AccumulateAvx512"/>: per node a 64-bit pair of its threshold
    /// and <c>(left - root) &lt;&lt; 8 | feature</c> (one gather fetches both), its leaf value
    /// apart, and per tree its first 32 nodes (all of levels 0-4 in breadth-first order) as
    /// two 32-entry tables, thresholds and packed words, for register permutes. Null when a
    /// tree or the feature count outgrows the packing.
    /// </summary>
    private static (long[]? Pairs, float[]? Leaves, float[]? Tables) Pack(Node[] nodes, int[] roots)
    {
        var pairs = new long[nodes.Length];
        var leaves = new float[nodes.Length];
        var tables = new float[roots.Length * 64];
        for (var t = 0; t < roots.Length; t++)
        {
            var root = roots[t];
            var end = t + 1 < roots.Length ? roots[t + 1] : nodes.Length;
            for (var i = root; i < end; i++)
            {
                var n = nodes[i];
                var left = n.Left - root;
                if (n.Feature is < 0 or > 255 || left is < 0 or >= 1 << 23)
                {
                    return (null, null, null);
                }

                var packed = (left << 8) | n.Feature;
                pairs[i] = (uint)BitConverter.SingleToInt32Bits(n.Threshold) | ((long)packed << 32);
                leaves[i] = n.Leaf;
            }

            for (var k = 0; k < 32; k++)
            {
                // Slots past a small tree's end are never reached; they absorb like leaves.
                var inside = root + k < end;
                tables[(t * 64) + k] = inside ? nodes[root + k].Threshold : float.PositiveInfinity;
                tables[(t * 64) + 32 + k] = BitConverter.Int32BitsToSingle(inside ? (int)(pairs[root + k] >> 32) : k << 8);
            }
        }

        return (pairs, leaves, tables);
    }

    public int FeatureCount { get; }

    /// <summary>
    /// Single trees and summed ensembles without a NaN threshold (every kernel steps right on
    /// <c>x &gt; t</c>, which a NaN threshold would turn left); averages of several trees and
    /// those keep the exact path.
    /// </summary>
    public static bool Supports(TreeEnsemble e) => (e.Aggregation != Aggregation.Average || e.TreeCount == 1) && !e.HasNaNThreshold;

    /// <summary>
    /// Predicts <paramref name="count"/> pixels from feature planes (feature f of pixel i at
    /// <c>planes[f * stride + i]</c>), which must hold no NaN.
    /// </summary>
    public void Predict(ReadOnlySpan<float> planes, int stride, int count, Span<float> dest)
    {
        if (count > stride || planes.Length < ((FeatureCount - 1) * stride) + count || dest.Length < count)
        {
            throw new ArgumentException("feature planes or destination too small");
        }

        if (!TryExpress(planes, stride, count, dest))
        {
            PredictWalk(planes, stride, count, dest);
        }
    }

    /// <summary>What the trees' leaves are added to: the base margin of a sum, 0 for an average.</summary>
    private float StartMargin => _aggregation == Aggregation.Average ? 0 : _baseMargin;

    /// <summary>Every pixel walks every tree (<see cref="Predict"/> without the express lane).</summary>
    private void PredictWalk(ReadOnlySpan<float> planes, int stride, int count, Span<float> dest)
    {
        dest = dest[..count];
        dest.Fill(StartMargin);
        var done = 0;
        var kernel = Kernel;
        if (kernel == TreeKernel.Masks && _masks is null)
        {
            kernel = TreeKernel.Permutes;
        }

        if (kernel == TreeKernel.Permutes && _permutes is null)
        {
            kernel = TreeKernel.Shuffles;
        }

        if (kernel == TreeKernel.Shuffles && _shuffles is null)
        {
            kernel = TreeKernel.Lanes;
        }

        if (kernel == TreeKernel.Lanes && _lanes is null)
        {
            kernel = TreeKernel.Avx512;
        }

        if (kernel == TreeKernel.Avx512 && (!Avx512F.VL.IsSupported || _pairs is null || FeatureCount > 32))
        {
            kernel = TreeKernel.Avx2;
        }

        if (kernel == TreeKernel.Masks)
        {
            done = count - (count % MaskForest.Lanes);
            _masks!.Accumulate(planes, stride, done, dest);
        }
        else if (kernel == TreeKernel.Permutes)
        {
            done = AccumulateRanked(_permutes!, planes, stride, count, dest);
        }
        else if (kernel == TreeKernel.Shuffles)
        {
            done = AccumulateRanked(_shuffles!, planes, stride, count, dest);
        }
        else if (kernel == TreeKernel.Lanes)
        {
            done = count - (count % LaneForest.Lanes);
            _lanes!.Accumulate(planes, stride, done, dest);
        }
        else if (kernel != TreeKernel.Scalar && Avx2.IsSupported)
        {
            done = count - (count % 32);
            if (kernel == TreeKernel.Avx512)
            {
                AccumulateAvx512(planes, stride, done, dest);
            }
            else
            {
                AccumulateGather(planes, stride, done, dest);
            }
        }

        AccumulateFrom(planes, stride, done, count, dest);
        if (_aggregation == Aggregation.SumSigmoid)
        {
            Logistic.Apply(dest);
        }
    }

    /// <summary>
    /// All <paramref name="count"/> pixels through a rank kernel: its whole calls, then the
    /// rest padded to one more (<see cref="PaddedTail"/>). Returns count.
    /// </summary>
    private int AccumulateRanked(IRankForest forest, ReadOnlySpan<float> planes, int stride, int count, Span<float> dest)
    {
        var whole = count - (count % forest.CallPixels);
        forest.Accumulate(planes, stride, whole, dest);
        if (whole < count)
        {
            PaddedTail(planes, stride, whole, count, dest, forest);
        }

        return count;
    }

    /// <summary>
    /// The last pixels [start, end) of a call, fewer than a rank kernel's call, through the
    /// kernel as one call (copies of the last pixel after them) rather than node by node
    /// through the published spectral forest's 200 trees, whose nodes are no longer in the
    /// cache: with the permute kernel the tails drew 0.96 % of a one-thread spectral run's
    /// samples (1 Mpx, four blocks of rows, 48 tail pixels: about 26 us a pixel, derived), and
    /// a vector of 64 costs about 64 x 140 ns. Two-thread throughput went from 10.45-10.86 to
    /// 10.98-11.10 Mpx/s.
    /// </summary>
    private void PaddedTail(ReadOnlySpan<float> planes, int stride, int start, int end, Span<float> dest, IRankForest forest)
    {
        var lanes = forest.CallPixels;
        var n = end - start;
        var features = ArrayPool<float>.Shared.Rent(FeatureCount * lanes);
        var margins = ArrayPool<float>.Shared.Rent(lanes);
        try
        {
            for (var f = 0; f < FeatureCount; f++)
            {
                var plane = features.AsSpan(f * lanes, lanes);
                planes.Slice((f * stride) + start, n).CopyTo(plane);
                plane[n..].Fill(plane[n - 1]);
            }

            dest.Slice(start, n).CopyTo(margins);
            margins.AsSpan(n, lanes - n).Clear();
            forest.Accumulate(features.AsSpan(0, FeatureCount * lanes), lanes, lanes, margins.AsSpan(0, lanes));
            margins.AsSpan(0, n).CopyTo(dest[start..]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(features);
            ArrayPool<float>.Shared.Return(margins);
        }
    }

    /// <summary>
    /// Adds each tree's leaf to <paramref name="dest"/> for pixels [start, end), tree by tree
    /// (so a tree's nodes stay in L1 while the block passes through it), sixteen pixels at a
    /// time so their independent steps overlap in the core. The scalar twin of
    /// <see cref="AccumulateGather"/>, which measured 1.5-2.5x faster on this project's Xeons.
    /// </summary>
    private unsafe void AccumulateFrom(ReadOnlySpan<float> planes, int stride, int start, int end, Span<float> dest)
    {
        const int Lanes = 16;
        var node = stackalloc int[Lanes];
        fixed (float* x = planes)
        fixed (float* acc = dest)
        fixed (Node* nodes = _nodes)
        {
            for (var t = 0; t < _roots.Length; t++)
            {
                var root = _roots[t];
                var depth = _depths[t];
                var sparse = _sparse[t];
                for (var i0 = start; i0 < end; i0 += Lanes)
                {
                    var lanes = Math.Min(Lanes, end - i0);
                    var xi = x + i0;
                    for (var l = 0; l < lanes; l++)
                    {
                        node[l] = root;
                    }

                    for (var d = 0; d < depth; d++)
                    {
                        var moved = 0;
                        for (var l = 0; l < lanes; l++)
                        {
                            var n = nodes + node[l];
                            var right = xi[(n->Feature * stride) + l] > n->Threshold;

                            // bool as its byte (0 or 1): a setcc, where "? 1 : 0" may become a branch.
                            var next = n->Left + *(byte*)&right;
                            moved |= next ^ node[l];
                            node[l] = next;
                        }

                        if (sparse && moved == 0)
                        {
                            break;
                        }
                    }

                    for (var l = 0; l < lanes; l++)
                    {
                        acc[i0 + l] += nodes[node[l]].Leaf;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Which evaluator runs: the best the processor has by default; tests and benchmarks
    /// switch it to compare the kernels with their scalar twin. Falls back to the next one
    /// down where the processor or the forest does not suit.
    /// </summary>
    internal static TreeKernel Kernel { get; set; } = DefaultKernel;

    /// <summary>
    /// Leaf masks (AVX-512, or AVX2 for an ensemble), which each fall back to the kernel
    /// before them in <see cref="TreeKernel"/> where the forest or the processor does not
    /// suit: trees in lanes, then the AVX-512 level stepping, then AVX2.
    /// </summary>
    internal const TreeKernel DefaultKernel = TreeKernel.Masks;

    /// <summary>
    /// AVX-512 variant of <see cref="AccumulateGather"/> for pixels [0, end), end a multiple
    /// of 32. The first five levels take their nodes from two 32-entry register tables per
    /// tree (permutes instead of gathers); deeper levels fetch threshold and packed word
    /// with one 64-bit gather; a permute of the per-call feature offsets replaces the
    /// multiply by the stride. Only the feature value and the leaf are 32-bit gathers.
    /// </summary>
    private unsafe void AccumulateAvx512(ReadOnlySpan<float> planes, int stride, int end, Span<float> dest)
    {
        var (offLo, offHi) = FeatureOffsets(stride);
        fixed (float* x = planes)
        fixed (float* acc = dest)
        fixed (long* pairs = _pairs)
        fixed (float* leaves = _leaves)
        fixed (float* tables = _tables)
        {
            for (var t = 0; t < _roots.Length; t++)
            {
                var root = _roots[t];
                var nodes = pairs + root;
                var leafOf = leaves + root;
                var table = tables + (t * 64);
                var thLo = Vector512.Load(table);
                var thHi = Vector512.Load(table + 16);
                var pkLo = Vector512.Load((int*)table + 32);
                var pkHi = Vector512.Load((int*)table + 48);
                var depth = _depths[t];
                var top = Math.Min(depth, 5);
                var sparse = _sparse[t];
                for (var i0 = 0; i0 < end; i0 += 32)
                {
                    var (p0, p1, p2, p3) = Pixels(i0);
                    Vector256<int> n0 = default, n1 = default, n2 = default, n3 = default;
                    for (var d = 0; d < top; d++)
                    {
                        TableStep<No>(x, offLo, offHi, stride, thLo, thHi, pkLo, pkHi, p0, ref n0);
                        TableStep<No>(x, offLo, offHi, stride, thLo, thHi, pkLo, pkHi, p1, ref n1);
                        TableStep<No>(x, offLo, offHi, stride, thLo, thHi, pkLo, pkHi, p2, ref n2);
                        TableStep<No>(x, offLo, offHi, stride, thLo, thHi, pkLo, pkHi, p3, ref n3);
                    }

                    for (var d = top; d < depth; d++)
                    {
                        var moved = PairStep<No>(nodes, x, offLo, offHi, stride, p0, ref n0)
                            | PairStep<No>(nodes, x, offLo, offHi, stride, p1, ref n1)
                            | PairStep<No>(nodes, x, offLo, offHi, stride, p2, ref n2)
                            | PairStep<No>(nodes, x, offLo, offHi, stride, p3, ref n3);

                        // Leaves keep their index: when no lane moved, all 32 pixels are done.
                        if (sparse && moved == Vector256<int>.Zero)
                        {
                            break;
                        }
                    }

                    Avx.Store(acc + i0, Avx.Add(Avx.LoadVector256(acc + i0), Avx2.GatherVector256(leafOf, n0, 4)));
                    Avx.Store(acc + i0 + 8, Avx.Add(Avx.LoadVector256(acc + i0 + 8), Avx2.GatherVector256(leafOf, n1, 4)));
                    Avx.Store(acc + i0 + 16, Avx.Add(Avx.LoadVector256(acc + i0 + 16), Avx2.GatherVector256(leafOf, n2, 4)));
                    Avx.Store(acc + i0 + 24, Avx.Add(Avx.LoadVector256(acc + i0 + 24), Avx2.GatherVector256(leafOf, n3, 4)));
                }
            }
        }
    }

    /// <summary>Per feature (up to 32), where its plane starts: the permute tables of the walks' feature offsets.</summary>
    private unsafe (Vector512<int> Lo, Vector512<int> Hi) FeatureOffsets(int stride)
    {
        var offsets = stackalloc int[32];
        for (var f = 0; f < 32; f++)
        {
            offsets[f] = f < FeatureCount ? f * stride : 0;
        }

        return (Vector512.Load(offsets), Vector512.Load(offsets + 16));
    }

    /// <summary>One of the first five levels for eight pixels: the node from the tree's register tables.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TableStep<TIndexed>(
        float* x, Vector512<int> offLo, Vector512<int> offHi, int stride, Vector512<float> thLo, Vector512<float> thHi,
        Vector512<int> pkLo, Vector512<int> pkHi, Vector256<int> pixel, ref Vector256<int> node)
        where TIndexed : struct, IStaticFlag
    {
        var at = node.ToVector512Unsafe();
        var th = Avx512F.PermuteVar16x32x2(thLo, at, thHi).GetLower();
        var pk = Avx512F.PermuteVar16x32x2(pkLo, at, pkHi).GetLower();
        node = Next<TIndexed>(x, offLo, offHi, stride, pixel, th, pk);
    }

    /// <summary>A first-five level as above, the tables read from the tree's 64 floats (thresholds, then packed words).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TableStep<TIndexed>(float* x, Vector512<int> offLo, Vector512<int> offHi, int stride, float* table, Vector256<int> pixel, ref Vector256<int> node)
        where TIndexed : struct, IStaticFlag =>
        TableStep<TIndexed>(x, offLo, offHi, stride, Vector512.Load(table), Vector512.Load(table + 16), Vector512.Load((int*)table + 32), Vector512.Load((int*)table + 48), pixel, ref node);

    /// <summary>
    /// A deeper level for eight pixels: threshold and packed word with one 64-bit gather per
    /// four. When all eight pixels sit on one node (neighbours in an image often take the
    /// same path), the node is read once and their values loaded side by side: no gather.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> PairStep<TIndexed>(long* nodes, float* x, Vector512<int> offLo, Vector512<int> offHi, int stride, Vector256<int> pixel, ref Vector256<int> node)
        where TIndexed : struct, IStaticFlag
    {
        var n0 = node.ToScalar();
        if (node == Vector256.Create(n0))
        {
            var pair = nodes[n0];
            var packed = (int)(pair >> 32);
            var xv = Values<TIndexed>(x + ((packed & 0xFF) * stride), pixel);
            var nx = Vector256.Create(packed >>> 8) - Vector256.GreaterThan(xv, Vector256.Create(BitConverter.Int32BitsToSingle((int)pair))).AsInt32();
            var mv = nx ^ node;
            node = nx;
            return mv;
        }

        var lo = Avx2.GatherVector256(nodes, node.GetLower(), 8).AsInt32();
        var hi = Avx2.GatherVector256(nodes, node.GetUpper(), 8).AsInt32();
        var th = Avx512F.VL.PermuteVar8x32x2(lo, Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14), hi).AsSingle();
        var pk = Avx512F.VL.PermuteVar8x32x2(lo, Vector256.Create(1, 3, 5, 7, 9, 11, 13, 15), hi);
        var next = Next<TIndexed>(x, offLo, offHi, stride, pixel, th, pk);
        var moved = next ^ node;
        node = next;
        return moved;
    }

    /// <summary><c>left + (x[feature] &gt; threshold)</c> for eight pixels, the feature's plane offset by permute.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Next<TIndexed>(float* x, Vector512<int> offLo, Vector512<int> offHi, int stride, Vector256<int> pixel, Vector256<float> th, Vector256<int> pk)
        where TIndexed : struct, IStaticFlag
    {
        var feature = pk & Vector256.Create(0xFF);
        var f0 = feature.ToScalar();
        Vector256<float> v;
        if (feature == Vector256.Create(f0))
        {
            // All eight nodes split on one feature (the root always; neighbouring pixels
            // often): their values are side by side in its plane.
            v = Values<TIndexed>(x + (f0 * stride), pixel);
        }
        else
        {
            var offset = Avx512F.PermuteVar16x32x2(offLo, feature.ToVector512Unsafe(), offHi).GetLower();
            v = Avx2.GatherVector256(x, offset + pixel, 4);
        }

        // The compare gives -1 in lanes that go right: subtracting it adds one.
        return Vector256.ShiftRightLogical(pk, 8) - Avx.CompareGreaterThan(v, th).AsInt32();
    }

    /// <summary>One plane's values of eight pixels: side by side in order, gathered when indexed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Values<TIndexed>(float* plane, Vector256<int> pixel)
        where TIndexed : struct, IStaticFlag =>
        TIndexed.IsSet ? Avx2.GatherVector256(plane, pixel, 4) : Vector256.Load(plane + pixel.ToScalar());

    /// <summary>
    /// AVX2 twin of <see cref="AccumulateFrom"/> for pixels [0, end), end a multiple of 32:
    /// four independent groups of eight pixels per step, so the gathers of one group overlap
    /// the latency of the others.
    /// </summary>
    private unsafe void AccumulateGather(ReadOnlySpan<float> planes, int stride, int end, Span<float> dest)
    {
        fixed (float* x = planes)
        fixed (float* acc = dest)
        fixed (Node* nodes = _nodes)
        {
            var ints = (int*)nodes;
            var floats = (float*)nodes;
            var strideV = Vector256.Create(stride);
            for (var t = 0; t < _roots.Length; t++)
            {
                // Nodes are addressed as int offsets: four ints per 16-byte record.
                var root = Vector256.Create(_roots[t] * 4);
                var depth = _depths[t];
                var sparse = _sparse[t];
                for (var i0 = 0; i0 < end; i0 += 32)
                {
                    var (p0, p1, p2, p3) = Pixels(i0);
                    Vector256<int> n0 = root, n1 = root, n2 = root, n3 = root;
                    for (var d = 0; d < depth; d++)
                    {
                        var moved = Step(ints, floats, x, strideV, p0, ref n0)
                            | Step(ints, floats, x, strideV, p1, ref n1)
                            | Step(ints, floats, x, strideV, p2, ref n2)
                            | Step(ints, floats, x, strideV, p3, ref n3);

                        // Leaves keep their index: when no lane moved, all 32 pixels are done.
                        if (sparse && moved == Vector256<int>.Zero)
                        {
                            break;
                        }
                    }

                    Avx.Store(acc + i0, Avx.Add(Avx.LoadVector256(acc + i0), Avx2.GatherVector256(floats + 3, n0, 4)));
                    Avx.Store(acc + i0 + 8, Avx.Add(Avx.LoadVector256(acc + i0 + 8), Avx2.GatherVector256(floats + 3, n1, 4)));
                    Avx.Store(acc + i0 + 16, Avx.Add(Avx.LoadVector256(acc + i0 + 16), Avx2.GatherVector256(floats + 3, n2, 4)));
                    Avx.Store(acc + i0 + 24, Avx.Add(Avx.LoadVector256(acc + i0 + 24), Avx2.GatherVector256(floats + 3, n3, 4)));
                }
            }
        }
    }

    /// <summary>The indices of pixels i0 .. i0 + 31 as four groups of eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<int>, Vector256<int>, Vector256<int>, Vector256<int>) Pixels(int i0)
    {
        var p0 = Vector256<int>.Indices + Vector256.Create(i0);
        return (p0, p0 + Vector256.Create(8), p0 + Vector256.Create(16), p0 + Vector256.Create(24));
    }

    /// <summary>
    /// One level for eight pixels; returns the lanes whose node changed (non-zero). Eight
    /// pixels on one node (neighbours often are) skip the gathers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Step(int* ints, float* floats, float* x, Vector256<int> stride, Vector256<int> pixel, ref Vector256<int> node)
    {
        var n0 = node.ToScalar();
        if (node == Vector256.Create(n0))
        {
            // All eight pixels on one node: its record read once, their values side by side.
            var at = ints + n0;
            var xv = Vector256.Load(x + (at[0] * stride.ToScalar()) + pixel.ToScalar());
            var nx = Vector256.ShiftLeft(Vector256.Create(at[2]) - Vector256.GreaterThan(xv, Vector256.Create(((float*)at)[1])).AsInt32(), 2);
            var mv = nx ^ node;
            node = nx;
            return mv;
        }

        var f = Avx2.GatherVector256(ints, node, 4);
        var th = Avx2.GatherVector256(floats + 1, node, 4);
        var l = Avx2.GatherVector256(ints + 2, node, 4);
        var v = Avx2.GatherVector256(x, Avx2.Add(Avx2.MultiplyLow(f, stride), pixel), 4);

        // The compare gives -1 in lanes that go right: subtracting it adds one.
        var next = Avx2.ShiftLeftLogical(Avx2.Subtract(l, Avx.CompareGreaterThan(v, th).AsInt32()), 2);
        var moved = next ^ node;
        node = next;
        return moved;
    }

    /// <summary>One node in 16 bytes: a split, or an absorbing leaf (threshold +inf, left = itself).</summary>
    private readonly record struct Node(int Feature, float Threshold, int Left, float Leaf);
}

/// <summary>The evaluators of <see cref="LevelForest"/>, slowest first.</summary>
internal enum TreeKernel
{
    Scalar,
    Avx2,
    Avx512,

    /// <summary>Ensembles of 8 trees or more: <see cref="LaneForest"/>, sixteen trees per vector (AVX-512) or eight (AVX2); others as <see cref="Avx512"/>.</summary>
    Lanes,

    /// <summary>Summed ensembles of dense trees up to 9 deep: <see cref="ShuffleForest"/>, 32 pixels per vector, every lookup a byte shuffle (AVX2); others as <see cref="Lanes"/>.</summary>
    Shuffles,

    /// <summary>Summed ensembles of dense trees up to 9 deep: <see cref="PermuteForest"/>, 64 pixels per vector, every lookup a register permute (AVX-512 VBMI); others as <see cref="Shuffles"/>.</summary>
    Permutes,

    /// <summary>Trees of up to 32 leaves: <see cref="MaskForest"/>, every split tested at once (AVX-512; AVX2 for an ensemble); others as <see cref="Permutes"/>.</summary>
    Masks,
}

/// <summary>A kernel on feature ranks (<see cref="PermuteForest"/>, <see cref="ShuffleForest"/>): whole calls of <see cref="CallPixels"/>.</summary>
internal interface IRankForest
{
    /// <summary>Pixels a call takes a multiple of.</summary>
    int CallPixels { get; }

    /// <summary>Adds every tree's leaf, in tree order, to <c>dest[0 .. count)</c> for NaN-free feature planes; count a multiple of <see cref="CallPixels"/>.</summary>
    void Accumulate(ReadOnlySpan<float> planes, int stride, int count, Span<float> dest);
}
