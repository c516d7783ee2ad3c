namespace S2CloudMask.Train.Export;

/// <summary>
/// One tree in the engine's own form: node i goes left when <c>x[Feature[i]] &lt;= Threshold[i]</c>
/// (float32); a child &lt; 0 is leaf <c>~child</c> of <see cref="LeafValue"/>.
/// </summary>
public sealed record NativeTree(int[] Feature, float[] Threshold, int[] Left, int[] Right, bool[] DefaultLeft, float[] LeafValue)
{
    public int Depth
    {
        get
        {
            int Walk(int node) => node < 0 ? 0 : 1 + Math.Max(Walk(Left[node]), Walk(Right[node]));
            return Feature.Length == 0 ? 0 : Walk(0);
        }
    }
}

/// <summary>The engine's <c>"kind": "trees"</c> ensemble: <c>sigmoid(base_margin + sum of leaves)</c> for sum-sigmoid.</summary>
public sealed record NativeEnsemble(string Aggregation, float BaseMargin, IReadOnlyList<NativeTree> Trees)
{
    public int MaxDepth => Trees.Count == 0 ? 0 : Trees.Max(t => t.Depth);

    public int LeafCount => Trees.Sum(t => t.LeafValue.Length);
}
