using System.Text.Json;
using System.Text.Json.Serialization;
using S2CloudMask.Engine.Models;

namespace S2CloudMask.Api.Models;

/// <summary>A loaded model as <c>GET /models</c> describes it.</summary>
public sealed record ModelInfo(
    string Name,
    string Kind,
    IReadOnlyList<string> Bands,
    IReadOnlyList<string> Features,
    bool NeedsReference,
    string Target,
    PostprocessInfo Postprocess,
    float Threshold,
    TreesInfo Trees,
    string Origin,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Source,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Metadata)
{
    public static ModelInfo From(CloudModel model) => new(
        model.Name,
        model.Ensemble.Kind,
        model.Bands,
        model.Features.Expressions,
        model.NeedsReference,
        model.Target,
        new PostprocessInfo(model.Opening),
        model.Threshold,
        new TreesInfo(model.Ensemble.TreeCount, model.Ensemble.MaxDepth),
        model.Origin,
        model.Source,
        model.Metadata);
}

/// <summary>Side of the square grey opening applied to the probability (0 = none).</summary>
public sealed record PostprocessInfo(int Opening);

public sealed record TreesInfo(int Count, int MaxDepth);
