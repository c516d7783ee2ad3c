using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;

namespace S2CloudMask.Api.Problems;

/// <summary>
/// Turns every exception into an RFC 7807 response through <see cref="ProblemTable"/>. Only
/// 5xx are logged as errors (with the exception); the caller's mistakes are logged at debug
/// level, and the request log line records the status anyway.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var info = ProblemTable.Map(exception);
        if (info.Expected)
        {
            // Busy, or a store down: worth an error line (it is a 5xx), not a stack trace each time.
            LogExpected(logger, httpContext.Request.Path, info.Code, info.Detail);
        }
        else if (info.Status >= StatusCodes.Status500InternalServerError)
        {
            LogServerError(logger, exception, info.Code, httpContext.Request.Path);
        }
        else
        {
            LogClientProblem(logger, info.Status, info.Code, info.Detail);
        }

        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.Clear();
        httpContext.Response.StatusCode = info.Status;
        if (info.RetryAfterSeconds is { } retry)
        {
            httpContext.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = ProblemTable.ToProblemDetails(info),
        });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Request to {Path} failed: {ProblemCode}")]
    private static partial void LogServerError(ILogger logger, Exception exception, string problemCode, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Request to {Path} refused: {ProblemCode}: {Detail}")]
    private static partial void LogExpected(ILogger logger, string path, string problemCode, string detail);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Answered {StatusCode} {ProblemCode}: {Detail}")]
    private static partial void LogClientProblem(ILogger logger, int statusCode, string problemCode, string detail);
}
