using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using S2CloudMask.Api.Geomedians;
using S2CloudMask.Api.Masks;

namespace S2CloudMask.Api.Extensions;

public static class GeomedianExtensions
{
    /// <summary>
    /// The geomedian cache (memory LRU in front of Cache:Directory, or of Redis when Cache:Redis
    /// is set), the computer, and the cache as the reference provider of spectral-temporal models.
    /// </summary>
    public static IServiceCollection AddGeomedianCache(this IServiceCollection services)
    {
        services.AddOptions<CacheOptions>().BindConfiguration(CacheOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IGeomedianBackend>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<CacheOptions>>();
            return string.IsNullOrWhiteSpace(options.Value.Redis)
                ? ActivatorUtilities.CreateInstance<DiskGeomedianBackend>(sp)
                : ActivatorUtilities.CreateInstance<RedisGeomedianBackend>(sp);
        });
        services.AddSingleton<GeomedianCache>();
        services.AddSingleton<GeomedianComputer>();
        services.AddSingleton<GeomedianSources>();
        services.AddSingleton<RemoteStackReader>();
        services.TryAddSingleton<IReferenceProvider, CachedReferenceProvider>();
        return services;
    }
}
