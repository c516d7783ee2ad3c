using System.Globalization;
using System.Text.Json;
using S2CloudMask.Api.Masks;
using S2CloudMask.Engine;

namespace S2CloudMask.Api.Remote;

/// <summary>
/// A JSON body naming remote sources instead of carrying pixels:
/// <c>{"url": ...}</c> (one COG, ten bands in order), <c>{"bands": {"B02": ..., ...}}</c> (one COG
/// per band), or <c>{"stacItem": ...}</c>, with optional bbox, bboxCrs ("EPSG:4326"; default the
/// raster's CRS) and resolution (10, 20, 60). Mask options may ride along and override the query.
/// </summary>
public sealed record RemoteSource(string? Url, IReadOnlyDictionary<string, string>? Bands, string? StacItem)
{
    public string Describe => Url ?? StacItem ?? "per-band COGs";
}

public sealed record RemoteRequest(IReadOnlyList<RemoteSource> Sources, double[]? Bbox, int? BboxEpsg, double? Resolution, JsonElement Root)
{
    public static IReadOnlyList<double> Resolutions { get; } = [10, 20, 60];

    /// <summary>Whether a JSON body is a remote request (has "url", "bands", "stacItem" or "sources") rather than {"shape", "data"}.</summary>
    public static bool IsRemote(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("url") || reader.ValueTextEquals("bands") || reader.ValueTextEquals("stacItem") || reader.ValueTextEquals("sources"))
                {
                    return true;
                }

                reader.Read();
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }

    public static RemoteRequest Parse(byte[] body)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("malformed-json", "the JSON body is malformed: " + e.Message, e);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInputException("malformed-json", "the body must be a JSON object");
        }

        var sources = new List<RemoteSource>();
        if (root.TryGetProperty("sources", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            {
                throw Bad("\"sources\" must be a non-empty array of {\"url\"}, {\"bands\"} or {\"stacItem\"} objects, one per date");
            }

            foreach (var item in list.EnumerateArray())
            {
                sources.Add(item.ValueKind == JsonValueKind.String ? new RemoteSource(item.GetString(), null, null) : Source(item));
            }
        }
        else
        {
            sources.Add(Source(root));
        }

        double[]? bbox = null;
        if (root.TryGetProperty("bbox", out var b) && b.ValueKind != JsonValueKind.Null)
        {
            if (b.ValueKind != JsonValueKind.Array || b.GetArrayLength() != 4 || b.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number))
            {
                throw Bad("\"bbox\" must be [minx, miny, maxx, maxy]");
            }

            bbox = [.. b.EnumerateArray().Select(v => v.GetDouble())];
            if (!(bbox[0] < bbox[2] && bbox[1] < bbox[3]) || bbox.Any(v => !double.IsFinite(v)))
            {
                throw Bad("\"bbox\" must be [minx, miny, maxx, maxy] with minx < maxx and miny < maxy");
            }
        }

        int? epsg = null;
        if (Text(root, "bboxCrs") is { } crs)
        {
            // Only EPSG codes: GDAL's generic CRS parser would also read files named in it.
            if (!crs.StartsWith("EPSG:", StringComparison.OrdinalIgnoreCase)
                || !int.TryParse(crs.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            {
                throw Bad($"\"bboxCrs\" must be an EPSG code such as \"EPSG:4326\", got '{crs}'");
            }

            epsg = code;
        }

        double? resolution = null;
        if (root.TryGetProperty("resolution", out var r) && r.ValueKind != JsonValueKind.Null)
        {
            if (r.ValueKind != JsonValueKind.Number || !Resolutions.Contains(r.GetDouble()))
            {
                throw Bad("\"resolution\" must be 10, 20 or 60 (metres)");
            }

            resolution = r.GetDouble();
        }

        return new RemoteRequest(sources, bbox, epsg, resolution, root);
    }

    /// <summary>Mask options in the JSON body override the query string, as form fields do.</summary>
    public MaskQuery Merge(MaskQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return query with
        {
            Model = Text(Root, "model") ?? query.Model,
            Output = Text(Root, "output") ?? query.Output,
            Format = Text(Root, "format") ?? query.Format,
            Scale = Number(Root, "scale") ?? query.Scale,
            Offset = Number(Root, "offset") ?? query.Offset,
            Nodata = Number(Root, "nodata") ?? query.Nodata,
            Threshold = Number(Root, "threshold") ?? query.Threshold,
            TileId = Text(Root, "tileId") ?? query.TileId,
            ShadowModel = Text(Root, "shadowModel") ?? query.ShadowModel,
            Date = Number(Root, "date") is { } d ? (int)d : query.Date,
        };
    }

    private static RemoteSource Source(JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw Bad("a source must be an object with \"url\", \"bands\" or \"stacItem\"");
        }

        var url = Text(item, "url");
        var stac = Text(item, "stacItem");
        Dictionary<string, string>? bands = null;
        if (item.TryGetProperty("bands", out var b) && b.ValueKind != JsonValueKind.Null)
        {
            if (b.ValueKind != JsonValueKind.Object)
            {
                throw Bad("\"bands\" must map band names (B02 ... B12) to COG URLs");
            }

            bands = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var p in b.EnumerateObject())
            {
                bands[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw Bad($"bands.{p.Name} must be a URL");
            }
        }

        if ((url is null ? 0 : 1) + (stac is null ? 0 : 1) + (bands is null ? 0 : 1) != 1)
        {
            throw Bad("give exactly one of \"url\" (one COG of the ten bands), \"bands\" (one COG per band) or \"stacItem\"");
        }

        return new RemoteSource(url, bands, stac);
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw Bad($"\"{name}\" must be a string")
            : null;

    private static double? Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Bad($"\"{name}\" must be a number")
            : null;

    private static InvalidInputException Bad(string message) => new("bad-remote-request", message);
}
