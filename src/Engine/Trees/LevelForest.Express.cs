using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Trees;

/// <summary>
/// The express lane of a single tree: in an image, most pixels often end in one leaf (the
/// clear land of a cloudless scene, the core of a cloud). That leaf's region is a box, one
/// interval per feature its path splits on, so a pixel inside it needs no walk at all: a
/// few compares on the feature planes, read in order, tell it. The indices of the pixels
/// outside are packed, those pixels walk the tree as before (the AVX-512 kernel reading them
/// through the indices), and their answers are unpacked into place. Which leaf is hot is
/// learnt from the pixels themselves: every <see cref="KeepCalls"/> calls on a thread, a
/// sample of the block walks the tree, and the leaf most of it reaches (if a quarter do) is
/// taken until it catches fewer than one pixel in eight. Every pixel gets the value the walk
/// would give, bit for bit: the box tests are the path's own comparisons. (Testing a second
/// to fourth hot leaf as well measured slower on the clear scene: 12.5 against 11.3 us per
/// 2048 pixels.)
/// </summary>
internal sealed partial class LevelForest
{
    /// <summary>Pixels walked to pick the hot leaf.</summary>
    private const int Samples = 64;

    /// <summary>Calls between two looks for a hot leaf: after one is taken, and after none was found.</summary>
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
    /// Predicts through the express lane when this forest is a single tree, the AVX-512
    /// kernel runs and a hot leaf is known; false (nothing written) otherwise.
    /// </summary>
    private bool TryExpress(ReadOnlySpan<float> planes, int stride, int count, Span<float> dest)
    {
        if (!Express || _parents is null || count < 256 || Kernel < TreeKernel.Avx512 || !Avx512F.VL.IsSupported || _pairs is null || FeatureCount > 32)
        {
            return false;
        }

        var state = t_express ??= new ExpressState();
        if (state.Owner != this)
        {
            (state.Owner, state.Box, state.Countdown) = (this, null, 0);
        }

        if (--state.Countdown <= 0)
        {
            state.Box = PickHotLeaf(planes, stride, count);
            state.Countdown = state.Box is null ? RetryCalls : KeepCalls;
        }

        if (state.Box is not { } box)
        {
            return false;
        }

        var walked = Split(box, planes, stride, count, dest, state);
        t_expressCalls++;

        // A leaf that catches fewer than one pixel in eight costs more than it saves.
        if (walked * 8 > count * 7)
        {
            state.Box = null;
            state.Countdown = RetryCalls;
        }

        return true;
    }

    /// <summary>The leaf that most of <see cref="Samples"/> pixels spread over the block reach, if a quarter do.</summary>
    private LeafBox? PickHotLeaf(ReadOnlySpan<float> planes, int stride, int count)
    {
        Span<int> leaf = stackalloc int[Samples];
        for (var s = 0; s < Samples; s++)
        {
            var i = (int)((long)s * count / Samples);
            var node = _roots[0];
            for (var d = 0; d < _depths[0]; d++)
            {
                var n = _nodes[node];
                node = planes[(n.Feature * stride) + i] > n.Threshold ? n.Left + 1 : n.Left;
            }

            leaf[s] = node;
        }

        leaf.Sort();
        int best = -1, bestRun = 0;
        for (var s = 0; s < Samples;)
        {
            var e = s;
            while (e < Samples && leaf[e] == leaf[s])
            {
                e++;
            }

            if (e - s > bestRun)
            {
                (best, bestRun) = (leaf[s], e - s);
            }

            s = e;
        }

        return bestRun * 4 >= Samples ? BoxOf(best) : null;
    }

    /// <summary>The leaf's region: for each feature on its path, x &gt; Low and not x &gt; High.</summary>
    private LeafBox BoxOf(int leaf)
    {
        var low = new Dictionary<int, float>();
        var high = new Dictionary<int, float>();
        for (var child = leaf; _parents![child] >= 0; child = _parents[child])
        {
            var p = _nodes[_parents[child]];

            // Thresholds are never NaN here (see Supports). Went left: not x > t; right: x > t.
            if (child == p.Left)
            {
                high[p.Feature] = high.TryGetValue(p.Feature, out var h) ? MathF.Min(h, p.Threshold) : p.Threshold;
            }
            else
            {
                low[p.Feature] = low.TryGetValue(p.Feature, out var l) ? MathF.Max(l, p.Threshold) : p.Threshold;
            }
        }

        var features = low.Keys.Union(high.Keys).Order().ToArray();
        return new LeafBox(
            features,
            features.Select(f => low.GetValueOrDefault(f, float.NegativeInfinity)).ToArray(),
            features.Select(f => high.GetValueOrDefault(f, float.PositiveInfinity)).ToArray(),
            Finish(_nodes[leaf].Leaf));
    }

    /// <summary>What <see cref="Predict"/> writes for a pixel that ends in a leaf of this value (one tree).</summary>
    private float Finish(float leaf)
    {
        var v = (_aggregation == Aggregation.Average ? 0 : _baseMargin) + leaf;
        return _aggregation == Aggregation.SumSigmoid ? TreeEnsemble.Sigmoid(v) : v;
    }

    /// <summary>
    /// Box test sixteen pixels at a time; the indices of the pixels outside are packed (a
    /// multiple of 32, the last one repeated), those pixels walked in place, and their values
    /// unpacked in order among the leaf's. Returns how many were walked.
    /// </summary>
    private unsafe int Split(LeafBox box, ReadOnlySpan<float> planes, int stride, int count, Span<float> dest, ExpressState state)
    {
        var blocks = (count + 15) / 16;

        // Room for a multiple of 32 indices, and 16 more for the last block's store.
        var capacity = ((count + 31) & ~31) + 16;
        state.Reserve(capacity, blocks);
        var walked = 0;
        fixed (float* x = planes)
        fixed (float* d = dest)
        fixed (int* index = state.Index)
        fixed (float* values = state.Values)
        fixed (ushort* masks = state.Outside)
        {
            var full = count / 16;
            var tests = box.Features.Length;
            var offsets = stackalloc long[tests];
            var bounds = stackalloc Vector512<float>[2 * tests];
            for (var k = 0; k < tests; k++)
            {
                offsets[k] = (long)box.Features[k] * stride;
                bounds[2 * k] = Vector512.Create(box.Low[k]);
                bounds[(2 * k) + 1] = Vector512.Create(box.High[k]);
            }

            var bits = Lanes16;
            for (var b = 0; b < full; b++)
            {
                var i = b * 16;
                var inside = Vector512<float>.AllBitsSet;
                var at = x + i;
                for (var k = 0; k < tests; k++)
                {
                    var v = Vector512.Load(at + offsets[k]);
                    inside &= Vector512.GreaterThan(v, bounds[2 * k]) & Vector512.LessThanOrEqual(v, bounds[(2 * k) + 1]);
                }

                var mask = (ushort)~(uint)inside.ExtractMostSignificantBits();
                masks[b] = mask;
                var keep = Vector512.Equals(Vector512.Create((int)mask) & bits, bits);
                Vector512.Store(Avx512F.Compress(Vector512<int>.Zero, keep, Vector512<int>.Indices + Vector512.Create(i)), index + walked);
                walked += BitOperations.PopCount(mask);
            }

            // The last pixels (fewer than 16) all walk.
            if (full < blocks)
            {
                masks[full] = (ushort)((1 << (count - (full * 16))) - 1);
                for (var i = full * 16; i < count; i++)
                {
                    index[walked++] = i;
                }
            }

            if (walked == 0)
            {
                dest[..count].Fill(box.Value);
                return 0;
            }

            // The kernel takes 32 pixels at a time: the padding repeats the last pixel.
            var padded = (walked + 31) & ~31;
            for (var k = walked; k < padded; k++)
            {
                index[k] = index[walked - 1];
            }

            var walkedValues = new Span<float>(values, padded);
            walkedValues.Fill(_aggregation == Aggregation.Average ? 0 : _baseMargin);
            AccumulateAvx512<Yes>(planes, stride, index, padded, walkedValues);
            if (_aggregation == Aggregation.SumSigmoid)
            {
                for (var k = 0; k < walked; k++)
                {
                    values[k] = TreeEnsemble.Sigmoid(values[k]);
                }
            }

            var value = Vector512.Create(box.Value);
            var taken = 0;
            for (var b = 0; b < blocks; b++)
            {
                var i = b * 16;
                var lanes = Math.Min(16, count - i);
                var mask = masks[b];
                var vals = value;
                if (mask != 0)
                {
                    var take = Vector512.Equals(Vector512.Create((int)mask) & bits, bits).AsSingle();
                    vals = Avx512F.Expand(value, take, Vector512.Load(values + taken));
                    taken += BitOperations.PopCount(mask);
                }

                if (lanes == 16)
                {
                    Vector512.Store(vals, d + i);
                }
                else
                {
                    for (var l = 0; l < lanes; l++)
                    {
                        d[i + l] = vals.GetElement(l);
                    }
                }
            }
        }

        return walked;
    }

    private static readonly Vector512<int> Lanes16 = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);

    /// <summary>A leaf's region (x &gt; Low[k] and not x &gt; High[k] for feature Features[k]) and the value written for it.</summary>
    private sealed record LeafBox(int[] Features, float[] Low, float[] High, float Value);

    /// <summary>One thread's hot leaf for one forest, and the buffers its packed pixels pass through.</summary>
    private sealed class ExpressState
    {
        public LevelForest? Owner { get; set; }

        public LeafBox? Box { get; set; }

        public int Countdown { get; set; }

        public int[]? Index { get; private set; }

        public float[]? Values { get; private set; }

        public ushort[]? Outside { get; private set; }

        /// <summary>Grows the buffers; never shrinks them.</summary>
        public void Reserve(int capacity, int blocks)
        {
            if (Index is null || Index.Length < capacity)
            {
                Index = new int[capacity];
                Values = new float[capacity];
            }

            if (Outside is null || Outside.Length < blocks)
            {
                Outside = new ushort[blocks];
            }
        }
    }
}
