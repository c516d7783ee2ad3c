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
