using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace S2CloudMask.Api.Extensions;

/// <summary>Section <c>Logging</c> (beside Microsoft's LogLevel): <c>Json=true</c> writes compact JSON lines.</summary>
public sealed class LoggingOptions
{
    public const string Section = "Logging";

    public bool Json { get; set; }
}

public static class LoggingExtensions
{
    /// <summary>Serilog to the console: text, or compact JSON (CLEF) when Logging:Json is true.</summary>
    public static WebApplicationBuilder AddServiceLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<LoggingOptions>().BindConfiguration(LoggingOptions.Section).ValidateOnStart();
        builder.Services.AddSerilog((services, logger) =>
        {
            logger
                .ReadFrom.Configuration(builder.Configuration)
                .MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .Enrich.FromLogContext();
            if (services.GetRequiredService<IOptions<LoggingOptions>>().Value.Json)
            {
                logger.WriteTo.Console(new CompactJsonFormatter());
            }
            else
            {
                logger.WriteTo.Console(
                    outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}",
                    formatProvider: System.Globalization.CultureInfo.InvariantCulture);
            }
        });

        return builder;
    }

    /// <summary>
    /// One line per request; the mask endpoint adds Model, Output, Format, Pixels, ClassifyMs and
    /// CloudFraction as properties. Only 5xx are errors: a caller's mistake is not the service's.
    /// </summary>
    public static WebApplication UseServiceRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            options.GetLevel = (http, _, _) =>
                http.Response.StatusCode >= StatusCodes.Status500InternalServerError ? LogEventLevel.Error : LogEventLevel.Information;
        });
        return app;
    }
}
