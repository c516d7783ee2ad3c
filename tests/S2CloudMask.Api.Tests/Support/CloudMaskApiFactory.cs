using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using S2CloudMask.Api.Masks;

namespace S2CloudMask.Api.Tests.Support;

/// <summary>
/// The service in memory with Models:Directories = ../shared/models (from the repository root),
/// a cache folder of its own under the temporary folder (removed on dispose unless the caller
/// chose the folder), and by default a reference provider that knows the Wright geomedian as
/// tileId "wright" (<c>wrightReference: false</c> keeps the service's own geomedian cache).
/// </summary>
public class CloudMaskApiFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly bool _wrightReference;
    private readonly string? _ownCacheDirectory;

    public CloudMaskApiFactory()
        : this(new Dictionary<string, string?>(), withSharedModels: true, wrightReference: true)
    {
    }

    private CloudMaskApiFactory(IDictionary<string, string?> settings, bool withSharedModels, bool wrightReference)
    {
        _settings = new Dictionary<string, string?>(settings);
        _wrightReference = wrightReference;
        if (withSharedModels)
        {
            _settings.TryAdd("Models:Directories:0", SharedData.Models);
        }

        if (!_settings.ContainsKey("Cache:Directory"))
        {
            _ownCacheDirectory = NewCacheDirectory();
            _settings["Cache:Directory"] = _ownCacheDirectory;
        }
    }

    /// <summary>The cache folder this instance uses.</summary>
    public string CacheDirectory => _settings["Cache:Directory"]!;

    /// <summary>A separate instance with extra settings (xunit fixtures may have one public constructor only).</summary>
    public static CloudMaskApiFactory With(IDictionary<string, string?> settings, bool withSharedModels = true, bool wrightReference = true) =>
        new(settings, withSharedModels, wrightReference);

    /// <summary>A fresh, empty folder for Cache:Directory; the caller removes it.</summary>
    public static string NewCacheDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "s2cloudmask-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_settings));
        if (_wrightReference)
        {
            builder.ConfigureTestServices(services => services.AddSingleton<IReferenceProvider, WrightReferenceProvider>());
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownCacheDirectory is not null && Directory.Exists(_ownCacheDirectory))
        {
            try
            {
                Directory.Delete(_ownCacheDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A file still open on a slow shutdown; the temporary folder is cleaned eventually.
            }
        }
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
