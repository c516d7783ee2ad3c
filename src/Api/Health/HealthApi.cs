using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using S2CloudMask.Api.Geomedians;
using S2CloudMask.Engine.Models;

namespace S2CloudMask.Api.Health;

public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Health");

        group.MapGet("/healthz", Alive)
            .WithName("Healthz")
            .WithSummary("Liveness: the process answers")
            .WithDescription("Service, .NET and GDAL versions, like TiTiler's health route.");

        group.MapGet("/readyz", Ready)
            .WithName("Readyz")
            .WithSummary("Readiness: models loaded and GDAL initialised (503 otherwise)")
            .WithDescription("Also reports the geomedian store (disk, or Redis and whether it answers). An unreachable Redis is reported, not counted against readiness: it is shared by every replica, and requests without a tileId still work.");

        return app;
    }

    public static string ServiceVersion { get; } =
        typeof(HealthApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(HealthApi).Assembly.GetName().Version?.ToString()
        ?? "0.0.0";

    public static Ok<HealthReport> Alive(GdalStatus gdal) =>
        TypedResults.Ok(new HealthReport("alive", ServiceVersion, Environment.Version.ToString(), gdal.Version));

    public static async Task<Results<Ok<ReadinessReport>, JsonHttpResult<ReadinessReport>>> Ready(
        ModelCatalog catalog, GdalStatus gdal, [FromServices] IGeomedianBackend? geomedians = null, CancellationToken cancellationToken = default)
    {
        var models = catalog.Models.Select(m => m.Name).Order(StringComparer.Ordinal).ToArray();
        var problems = new List<string>();
        if (models.Length == 0)
        {
            problems.Add("no models loaded");
        }

        if (!gdal.Initialized)
        {
            problems.Add("GDAL not initialised: " + gdal.Error);
        }

        var cache = geomedians is null ? null : await geomedians.CheckAsync(cancellationToken);
        var report = new ReadinessReport(problems.Count == 0 ? "ready" : "not ready", models, gdal.Initialized, gdal.Version, problems, cache);
        return problems.Count == 0
            ? TypedResults.Ok(report)
            : TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

/// <param name="Status">Always "alive".</param>
/// <param name="Version">The service's version.</param>
/// <param name="Dotnet">The .NET runtime version (Environment.Version).</param>
/// <param name="Gdal">GDAL's release name, or null when libgdal could not be loaded.</param>
public sealed record HealthReport(string Status, string Version, string Dotnet, string? Gdal);

/// <param name="Status">"ready" or "not ready".</param>
/// <param name="Models">The loaded models.</param>
/// <param name="GdalInitialized">Whether libgdal was loaded.</param>
/// <param name="Gdal">GDAL's release name.</param>
/// <param name="Problems">Why not ready.</param>
/// <param name="Cache">The geomedian store: backend ("disk" or "redis"), whether it answers, and where (reported only).</param>
public sealed record ReadinessReport(
    string Status, IReadOnlyList<string> Models, bool GdalInitialized, string? Gdal, IReadOnlyList<string> Problems, BackendHealth? Cache = null);
