using S2CloudMask.Engine;

namespace S2CloudMask.Train.Export;

/// <summary>Builds the <c>*.model.json</c> document the engine reads (<c>Models/ModelFile.cs</c>).</summary>
public static class ModelDocument
{
    public static JsonObject Build(
        string name,
        IReadOnlyList<string> features,
        NativeEnsemble ensemble,
        int opening,
        float threshold,
        JsonObject source,
        JsonObject? metadata)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        var doc = new JsonObject
        {
            { "name", name },
            { "bands", SpectralBands.Names.ToArray() },
            { "reflectance_scale", "0..1 (surface reflectance, i.e. DN / 10000)" },
            { "features", features.ToArray() },
            { "ensemble", Ensemble(ensemble) },
            { "postprocess", opening > 0 ? new JsonObject { { "opening", opening } } : new JsonObject() },
            { "threshold", threshold },
            { "target", "cloud" },
            { "source", source },
        };
        if (metadata is not null)
        {
            doc.Add("metadata", metadata);
        }

        return doc;
    }

    public static JsonObject Ensemble(NativeEnsemble ensemble)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        return new JsonObject
        {
            { "kind", "trees" },
            { "split_rule", "feature <= threshold goes left; child < 0 is leaf ~child" },
            { "aggregation", ensemble.Aggregation },
            { "base_margin", ensemble.BaseMargin },
            {
                "trees", ensemble.Trees.Select(t => new JsonObject
                {
                    { "feature", t.Feature },
                    { "threshold", t.Threshold },
                    { "left", t.Left },
                    { "right", t.Right },
                    { "default_left", t.DefaultLeft },
                    { "leaf_value", t.LeafValue },
                }).ToList()
            },
        };
    }
}
