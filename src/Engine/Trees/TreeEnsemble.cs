using System.Runtime.CompilerServices;

namespace S2CloudMask.Engine.Trees;

/// <summary>How the leaf values of the trees become a probability.</summary>
public enum Aggregation
{
    /// <summary>Mean of the leaf values (scikit-learn trees and forests: leaves hold class fractions).</summary>
    Average,

    /// <summary>Sum of leaf values plus a base margin, then the logistic function (XGBoost binary:logistic).</summary>
    SumSigmoid,

    /// <summary>Sum of leaf values plus a base margin, untransformed.</summary>
    Sum,
}

/// <summary>One internal node: goes left when <c>x[Feature] &lt;= Threshold</c>; children &lt; 0 are leaves <c>~child</c>.</summary>
public readonly record struct TreeNode(int Feature, float Threshold, int Left, int Right);

/// <summary>
/// Any tree ensemble in one flattened form (after ML.NET's FastTree): parallel node arrays of
/// all trees, leaves as <c>~index</c> into <see cref="Leaves"/>, a per-node direction for
/// missing values. Every source's split rule is converted at load time to the single rule
/// "left when x &lt;= threshold" on float32 values, so evaluation has one comparison:
/// XGBoost's <c>x &lt; t</c> becomes <c>x &lt;= previous float of t</c>, and scikit-learn's
/// double threshold <c>(double)x &lt;= t</c> becomes <c>x &lt;= the largest float not above t</c>.
/// Both are exact for every float32 x.
/// </summary>
public sealed class TreeEnsemble
{
    public TreeEnsemble(
        string kind,
        int featureCount,
        TreeNode[] nodes,
        bool[] defaultLeft,
        float[] leaves,
        int[] roots,
        Aggregation aggregation,
        float baseMargin)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(defaultLeft);
        ArgumentNullException.ThrowIfNull(leaves);
        ArgumentNullException.ThrowIfNull(roots);
        if (defaultLeft.Length != nodes.Length)
        {
            throw new ArgumentException("one default direction per node is needed", nameof(defaultLeft));
        }

        if (roots.Length == 0)
        {
            throw new ModelFormatException("the ensemble has no trees");
        }

        foreach (var n in nodes)
        {
            if (n.Feature < 0 || n.Feature >= featureCount)
            {
                throw new ModelFormatException($"a node splits on feature {n.Feature}, but the model has {featureCount} features");
            }

            if (n.Left >= nodes.Length || n.Right >= nodes.Length || ~n.Left >= leaves.Length || ~n.Right >= leaves.Length)
            {
                throw new ModelFormatException("a node points past the end of the tree arrays");
            }
        }

        foreach (var r in roots)
        {
            if (r >= nodes.Length || ~r >= leaves.Length)
            {
                throw new ModelFormatException("a tree root points past the end of the tree arrays");
            }
        }

        Kind = kind;
        FeatureCount = featureCount;
        Nodes = nodes;
        DefaultLeft = defaultLeft;
        Leaves = leaves;
        Roots = roots;
        Aggregation = aggregation;
        BaseMargin = baseMargin;
        MaxDepth = roots.Max(r => Depth(r));
        HasNaNThreshold = nodes.Any(n => float.IsNaN(n.Threshold));
    }

    /// <summary>
    /// Whether a split has a NaN threshold (XGBoost's <c>x &lt; -inf</c>): it sends every
    /// value right, -inf too, which no <c>x &gt; t</c> compare of the block kernels can say.
    /// </summary>
    internal bool HasNaNThreshold { get; }

    /// <summary>Where the ensemble came from: <c>sklearn-decision-tree</c>, <c>xgboost-json</c>, ...</summary>
    public string Kind { get; }

    public int FeatureCount { get; }

    public TreeNode[] Nodes { get; }

    public bool[] DefaultLeft { get; }

    public float[] Leaves { get; }

    /// <summary>Root of each tree: a node index, or <c>~leaf</c> for a tree that is a single leaf.</summary>
    public int[] Roots { get; }

    public Aggregation Aggregation { get; }

    public float BaseMargin { get; }

    public int TreeCount => Roots.Length;

    public int MaxDepth { get; }

    /// <summary>Probability (or margin for <see cref="Aggregation.Sum"/>) for one feature vector.</summary>
    public float Predict(ReadOnlySpan<float> x)
    {
        if (x.Length < FeatureCount)
        {
            throw new ArgumentException($"expected {FeatureCount} features, got {x.Length}", nameof(x));
        }

        if (Aggregation == Aggregation.Average)
        {
            double sum = 0;
            for (var t = 0; t < Roots.Length; t++)
            {
                sum += Leaves[Leaf(t, x)];
            }

            return (float)(sum / Roots.Length);
        }

        var margin = BaseMargin;
        for (var t = 0; t < Roots.Length; t++)
        {
            margin += Leaves[Leaf(t, x)];
        }

        return Finish(margin);
    }

    /// <summary>
    /// Predicts <paramref name="count"/> pixels whose features are pixel-major
    /// (<c>features[i * FeatureCount + f]</c>). Trees run in the outer loop so each tree's
    /// nodes stay in cache while the block's pixels pass through it; margins add up in tree
    /// order in float32, as XGBoost does.
    /// </summary>
    public void PredictBlock(ReadOnlySpan<float> features, int count, Span<float> dest)
    {
        var nf = FeatureCount;
        if (features.Length < count * nf || dest.Length < count)
        {
            throw new ArgumentException("feature or destination span too small");
        }

        dest = dest[..count];
        if (Aggregation == Aggregation.Average && Roots.Length == 1)
        {
            for (var i = 0; i < count; i++)
            {
                dest[i] = Leaves[Leaf(0, features.Slice(i * nf, nf))];
            }

            return;
        }

        if (Aggregation == Aggregation.Average)
        {
            for (var i = 0; i < count; i++)
            {
                dest[i] = Predict(features.Slice(i * nf, nf));
            }

            return;
        }

        dest.Fill(BaseMargin);
        for (var t = 0; t < Roots.Length; t++)
        {
            for (var i = 0; i < count; i++)
            {
                dest[i] += Leaves[Leaf(t, features.Slice(i * nf, nf))];
            }
        }

        for (var i = 0; i < count; i++)
        {
            dest[i] = Finish(dest[i]);
        }
    }

    /// <summary>
    /// Predicts from feature planes (feature f of pixel i at <c>planes[f * stride + i]</c>).
    /// NaN-free blocks take the branch-free level-stepping evaluator, which gives the same
    /// values; a block with a NaN takes the node-by-node path with missing-value directions.
    /// </summary>
    public void PredictPlanes(ReadOnlySpan<float> planes, int stride, int count, Span<float> dest) =>
        PredictPlanes(planes, stride, count, dest, nanFree: false);

    /// <summary>
    /// <see cref="PredictPlanes(ReadOnlySpan{float}, int, int, Span{float})"/> for a caller
    /// that has already made the planes NaN-free (the classifier replaces undefined features),
    /// which spares the scan.
    /// </summary>
    internal void PredictPlanes(ReadOnlySpan<float> planes, int stride, int count, Span<float> dest, bool nanFree)
    {
        if (LevelForest.Supports(this) && (nanFree || !ContainsNaN(planes, stride, count)))
        {
            _level ??= new LevelForest(this);
            _level.Predict(planes, stride, count, dest);
            return;
        }

        var pixelMajor = new float[count * FeatureCount];
        for (var f = 0; f < FeatureCount; f++)
        {
            for (var i = 0; i < count; i++)
            {
                pixelMajor[(i * FeatureCount) + f] = planes[(f * stride) + i];
            }
        }

        PredictBlock(pixelMajor, count, dest);
    }

    private LevelForest? _level;

    /// <summary>
    /// For a single averaged tree (a scikit-learn decision tree), the tree that says only
    /// whether the probability is above <paramref name="threshold"/>: each leaf becomes 1
    /// (above) or 0, and every subtree whose leaves all say the same becomes one leaf. Its
    /// prediction is 1 exactly where this tree's probability is above the threshold, NaN
    /// features included (a merged subtree says the same whichever way a value goes).
    /// Null for any other ensemble (a sum or mean of several trees decides on their total),
    /// for a NaN threshold or leaf.
    /// <para>
    /// Why: a mask needs no more. The published <c>fast</c> tree keeps 198 of its 683 leaves
    /// at 0.5 (depth still 11), <c>fast-shadow</c> 4 of 26 (depth 3 instead of 11), and
    /// the 3x3 opening commutes with the threshold (<c>open(p) &gt; t</c> iff
    /// <c>open(p &gt; t)</c>: min and max commute with any non-decreasing map, NaN ignored
    /// by both), so opening these 0s and 1s gives the same mask.
    /// </para>
    /// </summary>
    public TreeEnsemble? ForMask(float threshold)
    {
        if (Roots.Length != 1 || Aggregation != Aggregation.Average || float.IsNaN(threshold) || Leaves.Any(float.IsNaN))
        {
            return null;
        }

        // What every leaf under a node (or the leaf ~node) says: 0 or 1, or -1 where they differ.
        var says = new sbyte[Nodes.Length];
        int Said(int node) => node < 0 ? (Leaves[~node] > threshold ? 1 : 0) : says[node];
        int Says(int node)
        {
            if (node < 0)
            {
                return Said(node);
            }

            var (l, r) = (Says(Nodes[node].Left), Says(Nodes[node].Right));
            return says[node] = (sbyte)(l == r ? l : -1);
        }

        // Depth-first, parents before children, as the source trees are laid out.
        var nodes = new List<TreeNode>();
        var defaults = new List<bool>();
        int Build(int node)
        {
            var s = Said(node);
            if (s >= 0)
            {
                return ~s;
            }

            var at = nodes.Count;
            nodes.Add(default);
            defaults.Add(DefaultLeft[node]);
            var n = Nodes[node];
            var left = Build(n.Left);
            nodes[at] = n with { Left = left, Right = Build(n.Right) };
            return at;
        }

        Says(Roots[0]);
        var root = Build(Roots[0]);
        return new TreeEnsemble(Kind, FeatureCount, [.. nodes], [.. defaults], [0f, 1f], [root], Aggregation.Average, 0);
    }

    private bool ContainsNaN(ReadOnlySpan<float> planes, int stride, int count)
    {
        for (var f = 0; f < FeatureCount; f++)
        {
            if (FloatSpans.ContainsNaN(planes.Slice(f * stride, count)))
            {
                return true;
            }
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Leaf(int tree, ReadOnlySpan<float> x)
    {
        var node = Roots[tree];
        var nodes = Nodes;
        while (node >= 0)
        {
            ref readonly var n = ref nodes[node];
            var v = x[n.Feature];
            if (v <= n.Threshold)
            {
                node = n.Left;
            }
            else if (!float.IsNaN(v))
            {
                node = n.Right;
            }
            else
            {
                node = DefaultLeft[node] ? n.Left : n.Right;
            }
        }

        return ~node;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Finish(float margin) =>
        Aggregation == Aggregation.SumSigmoid ? Logistic.Of(margin) : margin;

    /// <summary>Largest float32 not above <paramref name="t"/>: <c>(double)x &lt;= t</c> iff <c>x &lt;= FloorToFloat(t)</c>.</summary>
    public static float FloorToFloat(double t)
    {
        var f = (float)t;
        return f > t ? MathF.BitDecrement(f) : f;
    }

    /// <summary>The float32 threshold for which <c>x &lt; t</c> iff <c>x &lt;= LessThanAsLessOrEqual(t)</c>.</summary>
    /// (Nothing is below -inf, so that threshold becomes NaN: every number goes right.)
    public static float LessThanAsLessOrEqual(float t) => float.IsNegativeInfinity(t) ? float.NaN : MathF.BitDecrement(t);

    private int Depth(int node) =>
        node < 0 ? 0 : 1 + Math.Max(Depth(Nodes[node].Left), Depth(Nodes[node].Right));
}
