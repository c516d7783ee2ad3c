using GdalLib = S2CloudMask.Engine.Gdal.Gdal;

namespace S2CloudMask.Api.Health;

/// <summary>
/// Whether libgdal could be loaded and initialised. Checked once at start-up: without GDAL the
/// service still answers NPY and JSON requests, but is not ready (GeoTIFF and PNG need it).
/// </summary>
public sealed class GdalStatus
{
    private readonly Lazy<(string? Version, string? Error)> _state = new(Probe);

    public bool Initialized => _state.Value.Version is not null;

    public string? Version => _state.Value.Version;

    public string? Error => _state.Value.Error;

    private static (string?, string?) Probe()
    {
        try
        {
            GdalLib.Initialize();
            return (GdalLib.Version, null);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return (null, e.Message);
        }
    }
}
