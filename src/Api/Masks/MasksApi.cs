using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using S2CloudMask.Api.Classification;
using S2CloudMask.Api.Extensions;
using S2CloudMask.Api.Remote;
using Serilog;

namespace S2CloudMask.Api.Masks;

public static class MasksApi
{
    public static IEndpointRouteBuilder MapMasksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/mask")
            .WithTags("Masks")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapPost("", PostMask)
            .WithName("PostMask")
            .WithSummary("Cloud mask, probability or classes of one observation or a stack")
            .WithDescription(
                "Body: a (y, x, band) or (y, x, band, time) array as .npy (application/x-npy or application/octet-stream), " +
                "a GeoTIFF of the ten model bands in order (image/tiff; its georeferencing is carried to the output), " +
                "JSON {\"shape\": [y, x, 10], \"data\": [...]} (flat, row-major; null = nodata), " +
                "or multipart/form-data with a 'file' part (.npy or .tif) and the query options as form fields, " +
                "or JSON naming remote Cloud-Optimized GeoTIFFs: {\"url\": one COG of the ten bands} | {\"bands\": {\"B02\": url, ...}} | {\"stacItem\": url} " +
                "with optional \"bbox\": [minx, miny, maxx, maxy], \"bboxCrs\": \"EPSG:4326\", \"resolution\": 10 | 20 | 60 and any query option; " +
                "\"sources\": [...] gives a stack of dates. " +
                "Band order: B02 B03 B04 B05 B06 B07 B08 B8A B11 B12. " +
                "Headers: X-Cloud-Fraction (positive pixels over valid pixels), X-Model, and Content-Crs / Content-Bbox for georeferenced input.")
            .Produces(StatusCodes.Status200OK, null, "image/tiff", "image/png", MaskEncoder.NpyType)
            .WithMetadata(new MaskUploadMetadata());

        return app;
    }

    public static async Task<FileContentHttpResult> PostMask(
        [AsParameters] MaskQuery query,
        HttpContext http,
        ClassifierPool pool,
        MaskComputation computation,
        IOptions<LimitsOptions> limits,
        IDiagnosticContext diagnostics,
        RemoteSources remote,
        CancellationToken cancellationToken)
    {
        // Admitted before the body is read, so waiting requests hold no body in memory.
        using var admission = pool.Admit();
        var (input, merged) = await MaskRequestReader.ReadAsync(http.Request, query, limits.Value, cancellationToken, remote);
        var request = merged.Validated();
        request = request with { Format = request.Format ?? NegotiateFormat(http.Request) };
        diagnostics.Set("Model", request.Model);
        diagnostics.Set("Output", request.Output);
        diagnostics.Set("Format", request.Format);
        diagnostics.Set("Pixels", input.PixelCount);

        var clock = Stopwatch.StartNew();
        var result = await computation.RunAsync(input, request, cancellationToken);
        diagnostics.Set("ClassifyMs", Math.Round(clock.Elapsed.TotalMilliseconds, 1));
        diagnostics.Set("CloudFraction", result.CloudFraction);

        var encoded = MaskEncoder.Encode(result, request.Format!);
        var headers = http.Response.Headers;
        headers["X-Cloud-Fraction"] = result.CloudFraction.ToString("0.######", CultureInfo.InvariantCulture);
        headers["X-Model"] = result.Model;
        if (result.ShadowModel is not null)
        {
            headers["X-Shadow-Model"] = result.ShadowModel;
            headers["X-Shadow-Fraction"] = result.ShadowFraction!.Value.ToString("0.######", CultureInfo.InvariantCulture);
        }

        if (result.ReferenceOrigin is { } origin)
        {
            headers["X-Reference"] = origin;
        }

        headers["X-Threshold"] = result.Threshold.ToString(CultureInfo.InvariantCulture);
        if (MaskEncoder.ContentCrs(result.Georeference) is { } crs)
        {
            headers["Content-Crs"] = crs;
        }

        if (MaskEncoder.ContentBbox(result.Georeference, result.Width, result.Height) is { } bbox)
        {
            headers["Content-Bbox"] = bbox;
        }

        headers.ContentDisposition = new ContentDispositionHeaderValue("inline") { FileNameStar = encoded.FileName }.ToString();
        return TypedResults.Bytes(encoded.Bytes, encoded.ContentType);
    }

    /// <summary>The format the Accept header prefers (by quality, then order); GeoTIFF when it names none we write.</summary>
    public static string NegotiateFormat(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
        {
            return "geotiff";
        }

        foreach (var media in accepted.OrderByDescending(m => m.Quality ?? 1.0))
        {
            switch (media.MediaType.Value?.ToLowerInvariant())
            {
                case "image/tiff" or "image/geotiff" or "application/geotiff" or "image/*" or "*/*":
                    return "geotiff";
                case "image/png":
                    return "png";
                case "application/x-npy" or "application/octet-stream":
                    return "npy";
            }
        }

        return "geotiff";
    }
}
