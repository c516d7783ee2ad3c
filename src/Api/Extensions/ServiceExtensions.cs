using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using S2CloudMask.Api.Classification;
using S2CloudMask.Api.Health;
using S2CloudMask.Api.Hosting;
using S2CloudMask.Api.Masks;
using S2CloudMask.Api.Models;
using S2CloudMask.Engine.Models;

namespace S2CloudMask.Api.Extensions;

public static class ServiceExtensions
{
    /// <summary>
    /// Models (loaded once, shared), the classifier pool, the reference provider (the geomedian
    /// cache when <see cref="GeomedianExtensions.AddGeomedianCache"/> ran first, else none), and start-up checks.
    /// </summary>
    public static IServiceCollection AddCloudMaskEngine(this IServiceCollection services)
    {
        services.AddOptions<ModelsOptions>().BindConfiguration(ModelsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelsOptions>, ModelsOptionsValidator>();
        services.AddOptions<EngineOptions>().BindConfiguration(EngineOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ModelsOptions>>().Value;
            return ModelCatalog.Load(options.IncludeBuiltIn ? BuiltInModels.Load() : [], options.Directories);
        });
        services.AddSingleton<GdalStatus>();
        services.AddSingleton<ClassifierPool>();
        services.TryAddSingleton<IReferenceProvider, NoReferenceProvider>();
        services.AddSingleton<MaskComputation>();
        services.AddHostedService<StartupCheck>();
        return services;
    }

    /// <summary>
    /// Limits:MaxBodyBytes also becomes Kestrel's MaxRequestBodySize and the multipart limit;
    /// Kestrel reads bodies through 256 KiB blocks (<see cref="LargeBlockMemoryPoolFactory"/>).
    /// </summary>
    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        builder.Services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<LimitsOptions>>((kestrel, limits) => kestrel.Limits.MaxRequestBodySize = limits.Value.MaxBodyBytes);
        builder.Services.AddOptions<FormOptions>()
            .Configure<IOptions<LimitsOptions>>((form, limits) => form.MultipartBodyLengthLimit = limits.Value.MaxBodyBytes);
        return builder;
    }
}
