using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using S2CloudMask.Api.Classification;
using S2CloudMask.Api.Geomedians;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Remote;

namespace S2CloudMask.Api.Problems;

/// <summary>What a failure becomes on the wire: status, a stable slug and a message for the caller.</summary>
/// <summary>
/// How a failure is answered. <paramref name="RetryAfterSeconds"/> becomes a Retry-After
/// header; an <paramref name="Expected"/> 5xx (busy, a store down) is logged as one line
/// without a stack trace.
/// </summary>
public readonly record struct ProblemInfo(int Status, string Code, string Detail, int? RetryAfterSeconds = null, bool Expected = false);

/// <summary>
/// The one table from exception type to HTTP status. Everything the caller got wrong is an
/// <see cref="InvalidInputException"/> (the engine's and this service's own) whose
/// <see cref="InvalidInputException.Code"/> names the problem type; anything not listed is a
/// fault of the service: 500 with a generic message, so no internals leak to the caller.
/// </summary>
public static class ProblemTable
{
    public const string TypeBase = "https://s2cloudmask.dev/problems/";

    public static ProblemInfo Map(Exception exception) => exception switch
    {
        ServiceBusyException e => new(StatusCodes.Status503ServiceUnavailable, "busy", e.Message, e.RetryAfterSeconds, Expected: true),
        GeomedianStoreUnavailableException e => new(
            StatusCodes.Status503ServiceUnavailable, GeomedianStoreUnavailableException.Code, e.Message, GeomedianStoreUnavailableException.RetryAfterSeconds, Expected: true),
        UnsupportedMediaTypeException e => new(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", e.Message),
        InputTooLargeException e => new(StatusCodes.Status413PayloadTooLarge, e.Code, e.Message),
        RemoteSourceException e => Remote(e),
        TileNotFoundException e => new(StatusCodes.Status404NotFound, "unknown-tile", e.Message),
        CorruptGeomedianException e => new(StatusCodes.Status404NotFound, "geomedian-corrupt", e.Message),
        UnprocessableInputException e => new(StatusCodes.Status422UnprocessableEntity, e.Code, e.Message),
        InvalidInputException e => new(StatusCodes.Status400BadRequest, e.Code, e.Message),

        // Kestrel's MaxRequestBodySize and form limits surface as these.
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            new(StatusCodes.Status413PayloadTooLarge, "too-large", "the request body is larger than the configured limit (Limits:MaxBodyBytes)"),
        BadHttpRequestException e => new(e.StatusCode, "bad-request", e.Message),
        JsonException e => new(StatusCodes.Status400BadRequest, "malformed-json", "the JSON body is malformed: " + e.Message),

        // The client went away; not the service's fault, so not an error.
        OperationCanceledException => new(StatusCodes.Status499ClientClosedRequest, "client-closed-request", "the request was cancelled"),

        // Reading an upload turns GdalException into "unreadable-tiff" (400) at the reader;
        // one reaching here happened while writing the answer.
        GdalException => new(StatusCodes.Status500InternalServerError, "gdal-failure", "GDAL failed while producing the response; see the service log"),
        _ => new(StatusCodes.Status500InternalServerError, "internal-error", "an unexpected error occurred; see the service log"),
    };

    /// <summary>A remote COG / STAC source failed; the message names the URL without its query string.</summary>
    public static ProblemInfo Remote(RemoteSourceException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Failure switch
        {
            RemoteFailure.NotAllowed => new(StatusCodes.Status403Forbidden, "url-not-allowed", e.Message),
            RemoteFailure.Unreachable => new(StatusCodes.Status502BadGateway, "remote-unreachable", e.Message),
            RemoteFailure.NotFound => new(StatusCodes.Status502BadGateway, "remote-not-found", e.Message),
            RemoteFailure.Forbidden => new(StatusCodes.Status502BadGateway, "remote-forbidden", e.Message),
            RemoteFailure.ServerError => new(StatusCodes.Status502BadGateway, "remote-server-error", e.Message),
            RemoteFailure.Timeout => new(StatusCodes.Status504GatewayTimeout, "remote-timeout", e.Message),
            RemoteFailure.NotATiff => new(StatusCodes.Status422UnprocessableEntity, "not-a-tiff", e.Message),
            RemoteFailure.Unusable => new(StatusCodes.Status422UnprocessableEntity, "remote-unusable", e.Message),
            _ => new(StatusCodes.Status502BadGateway, "remote-read-failed", e.Message),
        };
    }

    public static ProblemDetails ToProblemDetails(ProblemInfo info) => new()
    {
        Type = TypeBase + info.Code,
        Title = Title(info.Code),
        Status = info.Status,
        Detail = info.Detail,
    };

    /// <summary>A problem result for handlers that answer a problem without throwing (e.g. 404 on a lookup).</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Result(int status, string code, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: Title(code), type: TypeBase + code);

    private static readonly Dictionary<string, string> Titles = new(StringComparer.Ordinal)
    {
        ["busy"] = "Service busy",
        ["too-large"] = "Input too large",
        ["malformed-npy"] = "Malformed .npy",
        ["fortran-order"] = "Fortran-order .npy",
        ["unsupported-dtype"] = "Unsupported data type",
        ["unreadable-tiff"] = "Unreadable TIFF",
        ["malformed-json"] = "Malformed JSON",
        ["png-one-date"] = "PNG holds one date",
        ["missing-reference"] = "Missing reference (geomedian)",
        ["wrong-shape"] = "Wrong array shape",
        ["unknown-tile"] = "No geomedian for the tile",
        ["geomedian-corrupt"] = "Cached geomedian corrupt (dropped)",
        ["reference-mismatch"] = "Geomedian does not cover the observation",
        ["bad-tile-id"] = "Invalid tile ID",
        ["url-not-allowed"] = "URL not allowed",
        ["remote-unreachable"] = "Remote source unreachable",
        ["remote-not-found"] = "Remote source not found",
        ["remote-forbidden"] = "Remote source refused access",
        ["remote-server-error"] = "Remote server error",
        ["remote-timeout"] = "Remote source timed out",
        ["not-a-tiff"] = "Remote source is not a TIFF",
        ["remote-unusable"] = "Remote sources cannot be used as asked",
        ["remote-read-failed"] = "Reading the remote source failed",
        ["bad-remote-request"] = "Bad remote-source request",
    };

    /// <summary>A fixed title per problem type; otherwise the slug in words ("wrong-band-count" -> "Wrong band count").</summary>
    public static string Title(string code)
    {
        if (Titles.TryGetValue(code, out var title))
        {
            return title;
        }

        var words = code.Replace('-', ' ');
        return words.Length == 0 ? "Problem" : char.ToUpperInvariant(words[0]) + words[1..];
    }
}
