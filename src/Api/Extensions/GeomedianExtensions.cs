using Microsoft.Extensions.DependencyInjection.Extensions;
using S2CloudMask.Api.Geomedians;
using S2CloudMask.Api.Masks;

namespace S2CloudMask.Api.Extensions;

public static class GeomedianExtensions
{
    /// <summary>
    /// The geomedian cache (memory LRU in front of Cache:Directory), the computer, and the cache
    /// as the reference provider of spectral-temporal models.
    /// </summary>
    public static IServiceCollection AddGeomedianCache(this IServiceCollection services)
    {
        // The Redis backend (IGeomedianBackend over StackExchange.Redis) is not written yet:
        // refuse to start rather than silently keep replicas' caches apart.
        services.AddOptions<CacheOptions>().BindConfiguration(CacheOptions.Section).ValidateDataAnnotations()
            .Validate(o => string.IsNullOrWhiteSpace(o.Redis), "Cache:Redis is not supported by this build yet; leave it empty (disk cache)")
            .ValidateOnStart();
        services.AddSingleton<IGeomedianBackend, DiskGeomedianBackend>();
        services.AddSingleton<GeomedianCache>();
        services.AddSingleton<GeomedianComputer>();
        services.AddSingleton<GeomedianSources>();
        services.AddSingleton<RemoteStackReader>();
        services.TryAddSingleton<IReferenceProvider, CachedReferenceProvider>();
        return services;
    }
}
