using Microsoft.OpenApi;

namespace S2CloudMask.Api.Extensions;

public static class OpenApiExtensions
{
    public const string DocumentPath = "/swagger/v1/swagger.json";

    /// <summary>Swashbuckle: the OpenAPI document with descriptions, defaults, allowed values and request examples.</summary>
    public static IServiceCollection AddApiDocumentation(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "S2CloudMask",
                Version = "v1",
                Description =
                    "Sentinel-2 cloud and cloud-shadow masks from the s2cloudmask models. " +
                    "POST an array of the ten bands B02 B03 B04 B05 B06 B07 B08 B8A B11 B12 to /mask; " +
                    "errors are RFC 7807 problems whose type names the problem.",
            });
            var xml = Path.Combine(AppContext.BaseDirectory, typeof(OpenApiExtensions).Assembly.GetName().Name + ".xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }

            options.OperationFilter<ParameterAttributesFilter>();
            options.OperationFilter<MaskUploadFilter>();
        });
        return services;
    }

    /// <summary>Swagger UI at /swagger, the document at /swagger/v1/swagger.json, and / redirecting to the UI.</summary>
    public static WebApplication UseApiDocumentation(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint(DocumentPath, "S2CloudMask v1");
            options.RoutePrefix = "swagger";
            options.DocumentTitle = "S2CloudMask";
        });
        app.MapGet("/", () => TypedResults.Redirect("/swagger")).ExcludeFromDescription();
        return app;
    }
}
