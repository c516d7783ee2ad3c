using S2CloudMask.Api.Masks;
using S2CloudMask.Api.Remote;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Geomedians;

/// <summary>A stack from a JSON list of COG/STAC sources, one per date, read on one grid (bbox, resolution).</summary>
public sealed class RemoteStackReader(RemoteSources remote)
{
    public async Task<(BandStack Stack, Scaling Scaling, Georeference? Georeference)> ReadAsync(
        HttpRequest request, GeomedianQuery query, LimitsOptions limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(query);
        var json = await MaskRequestReader.ReadBodyAsync(request, limits, cancellationToken);
        var parsed = RemoteRequest.Parse(json);
        var (stack, georeference) = await remote.ReadStackAsync(parsed, query.Scale, query.Offset, query.Nodata, limits, cancellationToken);
        return (stack, Scaling.Identity, georeference);
    }
}
