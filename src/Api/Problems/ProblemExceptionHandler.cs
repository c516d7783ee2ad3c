using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using S2CloudMask.Api.Classification;

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
        if (exception is ServiceBusyException)
        {
            // Expected under load: worth an error line (it is a 5xx), not a stack trace each time.
            LogBusy(logger, httpContext.Request.Path);
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
        if (exception is ServiceBusyException busy)
        {
            httpContext.Response.Headers.RetryAfter = busy.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = ProblemTable.ToProblemDetails(info),
        });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Request to {Path} failed: {ProblemCode}")]
    private static partial void LogServerError(ILogger logger, Exception exception, string problemCode, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Request to {Path} refused: every worker busy and the queue full")]
    private static partial void LogBusy(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Answered {StatusCode} {ProblemCode}: {Detail}")]
    private static partial void LogClientProblem(ILogger logger, int statusCode, string problemCode, string detail);
}
