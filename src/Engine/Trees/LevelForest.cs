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
internal sealed class LevelForest
{
    private readonly Node[] _nodes;
    private readonly int[] _roots;
    private readonly int[] _depths;
    private readonly bool[] _sparse;
    private readonly Aggregation _aggregation;
    private readonly float _baseMargin;

    public LevelForest(TreeEnsemble ensemble)
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
    }

    public int FeatureCount { get; }

    /// <summary>Single trees and summed ensembles; averages of several trees keep the exact path.</summary>
    public static bool Supports(TreeEnsemble e) => e.Aggregation != Aggregation.Average || e.TreeCount == 1;

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

        dest = dest[..count];
        dest.Fill(_aggregation == Aggregation.Average ? 0 : _baseMargin);
        var done = 0;
        if (UseGather && Avx2.IsSupported)
        {
            done = count - (count % 32);
            AccumulateGather(planes, stride, done, dest);
        }

        AccumulateFrom(planes, stride, done, count, dest);
        if (_aggregation == Aggregation.SumSigmoid)
        {
            for (var i = 0; i < dest.Length; i++)
            {
                dest[i] = TreeEnsemble.Sigmoid(dest[i]);
            }
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

    /// <summary>Off runs the scalar twin everywhere (tests and benchmarks compare the two).</summary>
    internal static bool UseGather { get; set; } = true;

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
            var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            var strideV = Vector256.Create(stride);
            for (var t = 0; t < _roots.Length; t++)
            {
                // Nodes are addressed as int offsets: four ints per 16-byte record.
                var root = Vector256.Create(_roots[t] * 4);
                var depth = _depths[t];
                var sparse = _sparse[t];
                for (var i0 = 0; i0 < end; i0 += 32)
                {
                    var p0 = lane + Vector256.Create(i0);
                    var p1 = p0 + Vector256.Create(8);
                    var p2 = p0 + Vector256.Create(16);
                    var p3 = p0 + Vector256.Create(24);
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

    /// <summary>One level for eight pixels; returns the lanes whose node changed (non-zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Step(int* ints, float* floats, float* x, Vector256<int> stride, Vector256<int> pixel, ref Vector256<int> node)
    {
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
