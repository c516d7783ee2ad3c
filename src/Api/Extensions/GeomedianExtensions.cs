using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using S2CloudMask.Api.Geomedians;
using S2CloudMask.Api.Masks;

namespace S2CloudMask.Api.Extensions;

public static class GeomedianExtensions
{
    /// <summary>
    /// The geomedian cache (memory LRU in front of Cache:Directory, or of the Redis of
    /// Cache:Redis shared by replicas), the computer, and the cache as the reference provider of
    /// spectral-temporal models; 503 problem answers when Redis is unavailable.
    /// </summary>
    public static IServiceCollection AddGeomedianCache(this IServiceCollection services)
    {
        services.AddOptions<CacheOptions>().BindConfiguration(CacheOptions.Section).ValidateDataAnnotations()
            .Validate(
                o => RedisConnection.IsValid(o.Redis),
                "Cache:Redis is not a valid StackExchange.Redis connection string (e.g. redis:6379 or host:6379,password=...,ssl=true)")
            .ValidateOnStart();
        services.AddSingleton<RedisConnection>();
        services.AddSingleton<IGeomedianBackend>(sp =>
            string.IsNullOrWhiteSpace(sp.GetRequiredService<IOptions<CacheOptions>>().Value.Redis)
                ? ActivatorUtilities.CreateInstance<DiskGeomedianBackend>(sp)
                : ActivatorUtilities.CreateInstance<RedisGeomedianBackend>(sp));
        services.AddSingleton<GeomedianCache>();
        services.AddSingleton<GeomedianComputer>();
        services.AddSingleton<GeomedianSources>();
        services.AddSingleton<RemoteStackReader>();
        services.TryAddSingleton<IReferenceProvider, CachedReferenceProvider>();
        services.AddHostedService<GeomedianStoreStartup>();
        return services;
    }
}
