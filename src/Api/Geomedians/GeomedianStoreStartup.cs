using Microsoft.Extensions.Options;

namespace S2CloudMask.Api.Geomedians;

/// <summary>
/// Says at start-up where geomedians are kept, and with Redis begins connecting at once (without
/// holding up the start: a Redis that is down makes geomedian requests answer 503 until it is back).
/// </summary>
public sealed partial class GeomedianStoreStartup(
    IOptions<CacheOptions> options, IServiceProvider services, ILogger<GeomedianStoreStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var cache = options.Value;
        if (string.IsNullOrWhiteSpace(cache.Redis))
        {
            var disk = services.GetRequiredService<IGeomedianBackend>() as DiskGeomedianBackend;
            LogDisk(logger, disk?.Folder ?? cache.EffectiveDirectory, cache.MaxMemoryBytes >> 20);
        }
        else
        {
            var redis = services.GetRequiredService<RedisConnection>();
            LogRedis(logger, redis.Endpoint, cache.RedisKeyPrefix, cache.MaxMemoryBytes >> 20);
            _ = redis.MultiplexerAsync();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Geomedian cache: folder {Folder}, {MemoryMiB} MiB in memory")]
    private static partial void LogDisk(ILogger logger, string folder, long memoryMiB);

    [LoggerMessage(Level = LogLevel.Information, Message = "Geomedian cache: Redis at {Endpoint} shared by replicas (keys {Prefix}:*), {MemoryMiB} MiB in memory")]
    private static partial void LogRedis(ILogger logger, string endpoint, string prefix, long memoryMiB);
}
