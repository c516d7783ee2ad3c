using S2CloudMask.Engine.Models;

namespace S2CloudMask.Api.Health;

/// <summary>
/// Loads the models and initialises GDAL while the host starts, so a bad model file stops the
/// service at once (naming the file) instead of failing the first request; builds each model's
/// fused feature kernel, so the first request does not wait for it either.
/// </summary>
public sealed partial class StartupCheck(ModelCatalog catalog, GdalStatus gdal, ILogger<StartupCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var model in catalog.Models.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            LogModel(logger, model.Name, model.Ensemble.Kind, model.Origin, model.Features.Prepare());
        }

        if (catalog.Models.Count == 0)
        {
            LogNoModels(logger);
        }

        if (gdal.Initialized)
        {
            LogGdal(logger, gdal.Version!);
        }
        else
        {
            LogNoGdal(logger, gdal.Error ?? "unknown");
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded model {Model} ({Kind}) from {Origin}; its features run {FusedLanes} pixels a vector (0: as passes over planes)")]
    private static partial void LogModel(ILogger logger, string model, string kind, string origin, int fusedLanes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No models loaded: embed some or set Models:Directories; /readyz answers 503")]
    private static partial void LogNoModels(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "GDAL {GdalVersion} initialised")]
    private static partial void LogGdal(ILogger logger, string gdalVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GDAL unavailable ({Reason}); GeoTIFF and PNG will fail and /readyz answers 503")]
    private static partial void LogNoGdal(ILogger logger, string reason);
}
