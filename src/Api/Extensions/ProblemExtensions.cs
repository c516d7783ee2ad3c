using System.Diagnostics;
using S2CloudMask.Api.Problems;

namespace S2CloudMask.Api.Extensions;

public static class ProblemExtensions
{
    /// <summary>RFC 7807 answers for every failure, through <see cref="ProblemTable"/>.</summary>
    public static IServiceCollection AddProblemResponses(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions.TryAdd("traceId", Activity.Current?.Id ?? context.HttpContext.TraceIdentifier));
        services.AddExceptionHandler<ProblemExceptionHandler>();

        // Binding failures (e.g. scale=abc) throw, so they reach the table too, in every environment.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }

    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        app.UseExceptionHandler();

        // 404 / 405 from routing get a problem body as well.
        app.UseStatusCodePages();
        return app;
    }
}
