using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using S2CloudMask.Api.Masks;

namespace S2CloudMask.Api.Tests.Support;

/// <summary>
/// The service in memory with Models:Directories = ../shared/models (from the repository root)
/// and a reference provider that knows the Wright geomedian as tileId "wright".
/// </summary>
public class CloudMaskApiFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public CloudMaskApiFactory()
        : this(new Dictionary<string, string?>(), withSharedModels: true)
    {
    }

    private CloudMaskApiFactory(IDictionary<string, string?> settings, bool withSharedModels)
    {
        _settings = new Dictionary<string, string?>(settings);
        if (withSharedModels)
        {
            _settings.TryAdd("Models:Directories:0", SharedData.Models);
        }
    }

    /// <summary>A separate instance with extra settings (xunit fixtures may have one public constructor only).</summary>
    public static CloudMaskApiFactory With(IDictionary<string, string?> settings, bool withSharedModels = true) =>
        new(settings, withSharedModels);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_settings));
        builder.ConfigureTestServices(services => services.AddSingleton<IReferenceProvider, WrightReferenceProvider>());
    }
}

/// <summary>Serves <c>golden/geomedian-stack.npy</c> (reflectance) for tileId "wright"; nothing otherwise.</summary>
public sealed class WrightReferenceProvider : IReferenceProvider
{
    public const string TileId = "wright";

    private static readonly Lazy<ReferenceImage> Geomedian = new(() =>
        new ReferenceImage(
            S2CloudMask.Engine.Raster.BandImage.FromArray(S2CloudMask.Engine.Raster.Npy.Read(SharedData.Golden("geomedian-stack.npy"))),
            S2CloudMask.Engine.Raster.Scaling.Identity));

    public ValueTask<ReferenceImage?> FindAsync(ReferenceRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(request.TileId == TileId ? Geomedian.Value : null);
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<CloudMaskApiFactory>
{
    public const string Name = "api";
}
