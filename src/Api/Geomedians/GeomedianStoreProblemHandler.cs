using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using S2CloudMask.Api.Problems;

namespace S2CloudMask.Api.Geomedians;

/// <summary>
/// Answers <see cref="GeomedianStoreUnavailableException"/> (Redis down, timing out or refusing)
/// with 503 "geomedian-store-unavailable", Retry-After and a detail naming Redis and its
/// endpoint, instead of the 500 that unlisted exceptions get. Registered ahead of the general
/// handler by <c>AddGeomedianCache</c>; anything else passes on to it.
/// </summary>
public sealed partial class GeomedianStoreProblemHandler(IProblemDetailsService problems, ILogger<GeomedianStoreProblemHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (exception is not GeomedianStoreUnavailableException unavailable)
        {
            return false;
        }

        // Expected while Redis is down: one line, not a stack trace per request.
        LogUnavailable(logger, httpContext.Request.Path, unavailable.Message);
        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.Clear();
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = GeomedianStoreUnavailableException.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = ProblemTable.ToProblemDetails(
                new ProblemInfo(StatusCodes.Status503ServiceUnavailable, GeomedianStoreUnavailableException.Code, unavailable.Message)),
        });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Request to {Path} failed: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string path, string reason);
}
