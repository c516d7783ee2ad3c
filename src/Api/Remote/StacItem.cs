using System.Globalization;
using System.Text.Json;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Raster;
using S2CloudMask.Engine.Remote;

namespace S2CloudMask.Api.Remote;

/// <summary>One model band of a STAC item: the asset's URL and how its DN become reflectance, (DN + Offset) x Scale.</summary>
public sealed record StacBand(string Band, string Href, double Scale, double Offset);

/// <summary>
/// Reads the ten model bands out of a STAC item (Earth Search's Sentinel-2 L2A or anything with
/// B02-style asset keys). Asset names: blue green red rededge1 rededge2 rededge3 nir nir08
/// swir16 swir22, or B02 ... B12. Scale and offset come from each asset's raster:bands; without
/// an offset there, the processing-baseline offset (-1000 DN) is applied when the item says the
/// data carry it and it was not removed: s2:processing_baseline 04.00 or later, unless
/// earthsearch:boa_offset_applied is true (then the values were already harmonised).
/// </summary>
public static class StacItem
{
    public static IReadOnlyDictionary<string, string> EarthSearchNames { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["blue"] = "B02",
        ["green"] = "B03",
        ["red"] = "B04",
        ["rededge1"] = "B05",
        ["rededge2"] = "B06",
        ["rededge3"] = "B07",
        ["nir"] = "B08",
        ["nir08"] = "B8A",
        ["swir16"] = "B11",
        ["swir22"] = "B12",
    };

    public static IReadOnlyList<StacBand> Bands(byte[] json, Uri itemUrl)
    {
        ArgumentNullException.ThrowIfNull(itemUrl);
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(json);
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw Unusable(itemUrl, "is not JSON: " + e.Message);
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("assets", out var assets) || assets.ValueKind != JsonValueKind.Object)
        {
            throw Unusable(itemUrl, "is not a STAC item (no \"assets\")");
        }

        var properties = root.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        var baselineOffset = NeedsBaselineOffset(properties);
        var found = new Dictionary<string, StacBand>(StringComparer.OrdinalIgnoreCase);
        foreach (var asset in assets.EnumerateObject())
        {
            var band = EarthSearchNames.TryGetValue(asset.Name, out var mapped) ? mapped
                : SpectralBands.Names.FirstOrDefault(n => n.Equals(asset.Name, StringComparison.OrdinalIgnoreCase));
            if (band is null || found.ContainsKey(band) || asset.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            if (!asset.Value.TryGetProperty("href", out var href) || href.ValueKind != JsonValueKind.String)
            {
                throw Unusable(itemUrl, $"asset '{asset.Name}' has no href");
            }

            var url = new Uri(itemUrl, href.GetString()!);
            double? scale = null, offset = null;
            if (asset.Value.TryGetProperty("raster:bands", out var rb) && rb.ValueKind == JsonValueKind.Array && rb.GetArrayLength() > 0)
            {
                var first = rb[0];
                scale = first.TryGetProperty("scale", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : null;
                offset = first.TryGetProperty("offset", out var o) && o.ValueKind == JsonValueKind.Number ? o.GetDouble() : null;
            }

            // STAC: value = DN x scale + offset; the engine: (DN + offset') x scale.
            var sc = scale ?? Scaling.DefaultIntegerScale;
            var dnOffset = offset is { } off ? off / sc : baselineOffset ? Scaling.Baseline0400Offset : 0;
            found[band] = new StacBand(band, url.AbsoluteUri, sc, dnOffset);
        }

        var missing = SpectralBands.Names.Where(n => !found.ContainsKey(n)).ToArray();
        if (missing.Length > 0)
        {
            throw Unusable(itemUrl, $"has no asset for {string.Join(", ", missing)} (looked for {string.Join(" ", EarthSearchNames.Keys)} and B02-style keys)");
        }

        return [.. SpectralBands.Names.Select(n => found[n])];
    }

    /// <summary>Whether the item's DN still carry the +1000 offset of processing baseline 04.00 and later.</summary>
    public static bool NeedsBaselineOffset(JsonElement properties)
    {
        if (properties.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        if (properties.TryGetProperty("earthsearch:boa_offset_applied", out var applied) && applied.ValueKind == JsonValueKind.True)
        {
            return false;
        }

        if (properties.TryGetProperty("s2:processing_baseline", out var baseline) && baseline.ValueKind == JsonValueKind.String
            && double.TryParse(baseline.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var version))
        {
            return version >= 4.0;
        }

        return applied.ValueKind == JsonValueKind.False;
    }

    private static RemoteSourceException Unusable(Uri url, string why) =>
        new(RemoteFailure.Unusable, UrlPolicy.Redact(url), $"the STAC item {UrlPolicy.Redact(url)} {why}");
}
