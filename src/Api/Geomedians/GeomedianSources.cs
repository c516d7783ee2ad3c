using Microsoft.Net.Http.Headers;
using S2CloudMask.Api.Masks;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Geomedians;

/// <summary>
/// Where the stack of POST /geomedians/{tileId} comes from: the body itself (.npy, GeoTIFF with
/// time), or, for a JSON body, remote COG/STAC sources read through <see cref="RemoteStackReader"/>.
/// </summary>
public sealed class GeomedianSources(IServiceProvider services)
{
    public async Task<(BandStack Stack, Scaling Scaling, Georeference? Georeference, string Source)> ReadStackAsync(
        HttpRequest request, GeomedianQuery query, LimitsOptions limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            && type.MediaType.Value is { } media
            && (media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
        {
            var reader = services.GetRequiredService<RemoteStackReader>();
            var (stack, scaling, georeference) = await reader.ReadAsync(request, query, limits, cancellationToken);
            return (stack, scaling, georeference, "remote");
        }

        var (s, sc, g) = await GeomedianRequestReader.ReadStackAsync(request, query, limits, cancellationToken);
        return (s, sc, g, "post");
    }
}
