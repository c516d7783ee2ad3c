using Microsoft.AspNetCore.Http.HttpResults;
using S2CloudMask.Api.Problems;
using S2CloudMask.Engine.Models;

namespace S2CloudMask.Api.Models;

public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/models").WithTags("Models");

        group.MapGet("/", ListModels)
            .WithName("ListModels")
            .WithSummary("The loaded models")
            .WithDescription("Every model the service can run, built-in and loaded from Models:Directories.");

        group.MapGet("/{name}", GetModel)
            .WithName("GetModel")
            .WithSummary("One loaded model")
            .WithDescription("Bands, feature expressions, ensemble, opening, threshold and provenance of a model.");

        return app;
    }

    public static Ok<ModelInfo[]> ListModels(ModelCatalog catalog) =>
        TypedResults.Ok(catalog.Models.OrderBy(m => m.Name, StringComparer.Ordinal).Select(ModelInfo.From).ToArray());

    public static Results<Ok<ModelInfo>, ProblemHttpResult> GetModel(string name, ModelCatalog catalog) =>
        catalog.TryGet(name, out var model)
            ? TypedResults.Ok(ModelInfo.From(model))
            : ProblemTable.Result(
                StatusCodes.Status404NotFound,
                "unknown-model",
                $"unknown model '{name}'; loaded models: {string.Join(", ", catalog.Models.Select(m => m.Name).Order(StringComparer.Ordinal))}");
}
