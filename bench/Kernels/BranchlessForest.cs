using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Bench.Kernels;

/// <summary>
/// A prototype for the engine owner, not engine code: the same trees in a layout that walks
/// without branches, eight pixels at a time. Leaves become nodes whose children are
/// themselves (threshold +inf), so every tree takes exactly its depth in steps with no
/// test for "reached a leaf", and the step is <c>node = children[2 node + (x &gt; t)]</c>: a
/// data dependency instead of a mispredicted branch. Eight independent pixels per tree
/// keep eight such chains in flight. Sums run in tree order per pixel, as PredictBlock's do,
/// so the result is bit-identical (checked in the benchmark's setup).
/// </summary>
internal sealed class BranchlessForest
{
    private const int Lanes = 8;

    private readonly int[] _feature;
    private readonly float[] _threshold;
    private readonly int[] _children;
    private readonly int[] _nanRight;
    private readonly float[] _value;
    private readonly int[] _roots;
    private readonly int[] _depth;
    private readonly TreeEnsemble _source;

    public BranchlessForest(TreeEnsemble ensemble)
    {
        _source = ensemble;
        var internalCount = ensemble.Nodes.Length;
        var total = internalCount + ensemble.Leaves.Length;
        _feature = new int[total];
        _threshold = new float[total];
        _children = new int[2 * total];
        _nanRight = new int[total];
        _value = new float[total];
        int Index(int child) => child >= 0 ? child : internalCount + ~child;
        for (var n = 0; n < internalCount; n++)
        {
            var node = ensemble.Nodes[n];
            _feature[n] = node.Feature;
            _threshold[n] = node.Threshold;
            _children[2 * n] = Index(node.Left);
            _children[(2 * n) + 1] = Index(node.Right);
            _nanRight[n] = ensemble.DefaultLeft[n] ? 0 : 1;
        }

        for (var l = 0; l < ensemble.Leaves.Length; l++)
        {
            var n = internalCount + l;
            _threshold[n] = float.PositiveInfinity;
            _children[2 * n] = n;
            _children[(2 * n) + 1] = n;
            _value[n] = ensemble.Leaves[l];
        }

        _roots = [.. ensemble.Roots.Select(Index)];
        _depth = [.. ensemble.Roots.Select(r => Depth(ensemble, r))];
    }

    public void PredictBlock(ReadOnlySpan<float> features, int count, Span<float> dest)
    {
        var nf = _source.FeatureCount;
        var average = _source.Aggregation == Aggregation.Average;
        dest = dest[..count];
        dest.Fill(average ? 0 : _source.BaseMargin);
        ref var x = ref MemoryMarshal.GetReference(features);
        Span<int> n = stackalloc int[Lanes];
        for (var t = 0; t < _roots.Length; t++)
        {
            var root = _roots[t];
            var depth = _depth[t];
            var i = 0;
            for (; i <= count - Lanes; i += Lanes)
            {
                n.Fill(root);
                for (var d = 0; d < depth; d++)
                {
                    for (var k = 0; k < Lanes; k++)
                    {
                        n[k] = Step(n[k], ref Unsafe.Add(ref x, (i + k) * nf));
                    }
                }

                for (var k = 0; k < Lanes; k++)
                {
                    dest[i + k] += _value[n[k]];
                }
            }

            for (; i < count; i++)
            {
                var node = root;
                for (var d = 0; d < depth; d++)
                {
                    node = Step(node, ref Unsafe.Add(ref x, i * nf));
                }

                dest[i] += _value[node];
            }
        }

        for (var i = 0; i < count; i++)
        {
            dest[i] = _source.Aggregation switch
            {
                Aggregation.Average => dest[i] / _roots.Length,
                Aggregation.SumSigmoid => TreeEnsemble.Sigmoid(dest[i]),
                _ => dest[i],
            };
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Step(int node, ref float pixel)
    {
        var v = Unsafe.Add(ref pixel, Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_feature), node));
        var right = v <= Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_threshold), node) ? 0 : 1;

        // NaN compares false, so it would go right; the node's default direction decides instead.
        var nan = float.IsNaN(v) ? 1 : 0;
        right = (right & ~nan) | (nan & Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_nanRight), node));
        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_children), (2 * node) + right);
    }

    private static int Depth(TreeEnsemble e, int node) =>
        node < 0 ? 0 : 1 + Math.Max(Depth(e, e.Nodes[node].Left), Depth(e, e.Nodes[node].Right));
}
