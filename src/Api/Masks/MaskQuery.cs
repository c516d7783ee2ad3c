using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using S2CloudMask.Engine;

namespace S2CloudMask.Api.Masks;

/// <summary>
/// The options of <c>POST /mask</c>, from the query string (and, for a multipart upload, from
/// form fields of the same names, which take precedence).
/// </summary>
public sealed record MaskQuery(
    [FromQuery(Name = "model")]
    [Description("Name of a loaded model (see GET /models).")]
    [DefaultValue(MaskQuery.DefaultModel)]
    string Model = MaskQuery.DefaultModel,

    [FromQuery(Name = "output")]
    [Description("mask: uint8 1 = cloud (or shadow for a shadow model), 0 = clear, 255 = nodata. probability: float32 0..1, NaN at nodata (PNG: uint8 0..100, 255 at nodata). classes: uint8 0 clear, 1 cloud, 2 shadow, 255 nodata; needs shadowModel.")]
    [DefaultValue(MaskQuery.DefaultOutput)]
    [AllowedValues("mask", "probability", "classes")]
    string Output = MaskQuery.DefaultOutput,

    [FromQuery(Name = "format")]
    [Description("geotiff (DEFLATE, tiled, georeferenced when the input was), png (one date; mask scaled 1 -> 255 with nodata 128 transparent, probability as percent with nodata 255 transparent, classes as a palette) or npy. When absent, chosen from the Accept header (image/tiff, image/png, application/x-npy); GeoTIFF otherwise.")]
    [AllowedValues("geotiff", "png", "npy")]
    string? Format = null,

    [FromQuery(Name = "scale")]
    [Description("Reflectance = (value + offset) x scale. Default: 1 for float input (taken as reflectance), 0.0001 for integer input (DN).")]
    double? Scale = null,

    [FromQuery(Name = "offset")]
    [Description("Added to each value before scaling; -1000 for Sentinel-2 processing baseline 04.00 and later. Default 0.")]
    double? Offset = null,

    [FromQuery(Name = "nodata")]
    [Description("Stored value marking a pixel as nodata (in any band). Default: the GeoTIFF's nodata tag, else 0 for integer input and NaN only for float input.")]
    double? Nodata = null,

    [FromQuery(Name = "threshold")]
    [Description("Probability above which a pixel is cloud; default: the model's threshold.")]
    double? Threshold = null,

    [FromQuery(Name = "tileId")]
    [Description("Which cached geomedian a spectral-temporal model (needsReference) compares against.")]
    string? TileId = null,

    [FromQuery(Name = "shadowModel")]
    [Description("A shadow model (e.g. fast-shadow) for output=classes; cloud wins over shadow.")]
    string? ShadowModel = null,

    [FromQuery(Name = "date")]
    [Description("For a (y, x, band, time) stack: classify only this date (0-based). Required for PNG, which holds one date.")]
    int? Date = null)
{
    public const string DefaultModel = "spectral";
    public const string DefaultOutput = "mask";

    public static IReadOnlyList<string> Outputs { get; } = ["mask", "probability", "classes"];

    public static IReadOnlyList<string> Formats { get; } = ["geotiff", "png", "npy"];

    /// <summary>Form fields of a multipart upload override the query string.</summary>
    public MaskQuery WithForm(IFormCollection form)
    {
        ArgumentNullException.ThrowIfNull(form);
        return this with
        {
            Model = Text(form, "model") ?? Model,
            Output = Text(form, "output") ?? Output,
            Format = Text(form, "format") ?? Format,
            Scale = Number(form, "scale") ?? Scale,
            Offset = Number(form, "offset") ?? Offset,
            Nodata = Number(form, "nodata") ?? Nodata,
            Threshold = Number(form, "threshold") ?? Threshold,
            TileId = Text(form, "tileId") ?? TileId,
            ShadowModel = Text(form, "shadowModel") ?? ShadowModel,
            Date = Integer(form, "date") ?? Date,
        };
    }

    /// <summary>Checks the values binding cannot: names from fixed lists, ranges, combinations.</summary>
    public MaskQuery Validated()
    {
        var output = Output.Trim().ToLowerInvariant();
        if (!Outputs.Contains(output))
        {
            throw BadParameter($"output must be one of {string.Join(", ", Outputs)}, not '{Output}'");
        }

        var format = Format?.Trim().ToLowerInvariant();
        if (format is "tif" or "tiff")
        {
            format = "geotiff";
        }

        if (format is not null && !Formats.Contains(format))
        {
            throw BadParameter($"format must be one of {string.Join(", ", Formats)}, not '{Format}'");
        }

        if (Threshold is { } t && !(t >= 0 && t <= 1))
        {
            throw BadParameter($"threshold must lie in 0..1, got {t.ToString(CultureInfo.InvariantCulture)}");
        }

        if (Date is < 0)
        {
            throw BadParameter($"date must be 0 or more, got {Date}");
        }

        if (output == "classes" && string.IsNullOrWhiteSpace(ShadowModel))
        {
            throw BadParameter("output=classes needs a shadow model too, e.g. model=spectral&shadowModel=fast-shadow");
        }

        if (output != "classes" && !string.IsNullOrWhiteSpace(ShadowModel))
        {
            throw BadParameter("shadowModel is used with output=classes only; to get a shadow mask alone, pass it as model");
        }

        return this with { Output = output, Format = format, Model = Model.Trim() };
    }

    private static InvalidInputException BadParameter(string message) => new("bad-parameter", message);

    private static string? Text(IFormCollection form, string key) =>
        form.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v.ToString()) ? v.ToString().Trim() : null;

    private static double? Number(IFormCollection form, string key)
    {
        var text = Text(form, key);
        if (text is null)
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw BadParameter($"form field {key} must be a number, got '{text}'");
    }

    private static int? Integer(IFormCollection form, string key)
    {
        var text = Text(form, key);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw BadParameter($"form field {key} must be an integer, got '{text}'");
    }
}
