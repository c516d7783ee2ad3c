namespace S2CloudMask.Api.Geomedians;

/// <summary>No geomedian is cached for the tile: 404 "unknown-tile", saying how to create one.</summary>
public sealed class TileNotFoundException(string tileId)
    : Exception(
        $"no geomedian is cached for tile '{tileId}': create one with PUT /geomedians/{tileId} (a (y, x, band) reference, .npy or GeoTIFF), " +
        $"POST /geomedians/{tileId} (a (y, x, band, time) stack to compute it from), or POST /mask?tileId={tileId} with a stack and a spectral-temporal model")
{
    public string TileId { get; } = tileId;
}

/// <summary>
/// A cached geomedian failed its checksum or was truncated; it has been dropped (never served):
/// 404 "geomedian-corrupt", and the tile is listed under "dropped" in GET /geomedians.
/// </summary>
public sealed class CorruptGeomedianException(string tileId, string reason)
    : Exception($"the cached geomedian of tile '{tileId}' was corrupt ({reason}) and has been dropped; create it again (PUT or POST /geomedians/{tileId})")
{
    public string TileId { get; } = tileId;

    public string Reason { get; } = reason;
}

/// <summary>
/// The persistent store (Redis) could not be reached or answered an error: 503
/// "geomedian-store-unavailable" with Retry-After, naming the store and its endpoint (never
/// its password). Requests that need no geomedian are unaffected.
/// </summary>
public sealed class GeomedianStoreUnavailableException(string store, string endpoint, string reason, Exception? inner = null)
    : Exception($"the shared geomedian cache ({store} at {endpoint}) is unavailable: {reason}; retry later", inner)
{
    public const string Code = "geomedian-store-unavailable";

    public const int RetryAfterSeconds = 5;

    public string Store { get; } = store;

    public string Endpoint { get; } = endpoint;
}
