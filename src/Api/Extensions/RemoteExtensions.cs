using Microsoft.Extensions.Options;
using S2CloudMask.Api.Remote;
using S2CloudMask.Engine.Remote;

namespace S2CloudMask.Api.Extensions;

public static class RemoteExtensions
{
    /// <summary>COG / STAC input: Remote options, the URL policy and probe, and GDAL's process-wide settings for /vsicurl/.</summary>
    public static IServiceCollection AddRemoteSources(this IServiceCollection services)
    {
        services.AddOptions<RemoteOptions>().BindConfiguration(RemoteOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RemoteOptions>>().Value;
            try
            {
                CogReader.ApplyProcessSettings(options.VsiCacheBytes);
            }
            catch (DllNotFoundException)
            {
                // No libgdal: /readyz says so; uploads of .npy still work.
            }

            return ActivatorUtilities.CreateInstance<RemoteSources>(sp);
        });
        return services;
    }
}
