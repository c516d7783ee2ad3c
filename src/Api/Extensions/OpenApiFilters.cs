using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.OpenApi;
using S2CloudMask.Api.Masks;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace S2CloudMask.Api.Extensions;

/// <summary>
/// Copies <c>[Description]</c>, <c>[DefaultValue]</c> and <c>[AllowedValues]</c> of
/// <c>[AsParameters]</c> members into the document, so Swagger UI shows every option with its
/// default and a drop-down where the values are fixed.
/// </summary>
public sealed class ParameterAttributesFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.Parameters is null)
        {
            return;
        }

        foreach (var description in context.ApiDescription.ParameterDescriptions)
        {
            var parameter = operation.Parameters.OfType<OpenApiParameter>()
                .FirstOrDefault(p => string.Equals(p.Name, description.Name, StringComparison.OrdinalIgnoreCase));
            if (parameter is null)
            {
                continue;
            }

            var attributes = Attributes(description);
            if (string.IsNullOrEmpty(parameter.Description) && attributes.OfType<DescriptionAttribute>().FirstOrDefault() is { } text)
            {
                parameter.Description = text.Description;
            }

            if (parameter.Schema is OpenApiSchema schema)
            {
                if (schema.Default is null && attributes.OfType<DefaultValueAttribute>().FirstOrDefault() is { Value: { } value })
                {
                    schema.Default = JsonSerializer.SerializeToNode(value);
                }

                if (attributes.OfType<AllowedValuesAttribute>().FirstOrDefault() is { } allowed)
                {
                    schema.Enum = [.. allowed.Values.Select(v => JsonSerializer.SerializeToNode(v)!)];
                }
            }
        }
    }

    private static object[] Attributes(ApiParameterDescription description) =>
        description.ParameterDescriptor is IParameterInfoParameterDescriptor { ParameterInfo: { } info }
            ? info.GetCustomAttributes(true)
            : [];
}

/// <summary>
/// <c>POST /mask</c> reads its body itself (five media types on one route), so ApiExplorer sees
/// none: describe them here, with a multipart form so Swagger UI offers a file upload, and a
/// JSON example small enough to try by hand.
/// </summary>
public sealed class MaskUploadFilter : IOperationFilter
{
    /// <summary>
    /// Two bright cloudy pixels in reflectance, bands B02..B12. Both are cloudy because the
    /// models' 3x3 opening removes a cloudy pixel whose neighbours are clear.
    /// </summary>
    public const string JsonExample =
        """{"shape": [1, 2, 10], "data": [0.45, 0.44, 0.46, 0.47, 0.50, 0.52, 0.53, 0.54, 0.38, 0.25, 0.41, 0.40, 0.42, 0.44, 0.48, 0.50, 0.51, 0.52, 0.36, 0.24]}""";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<MaskUploadMetadata>().Any())
        {
            return;
        }

        var form = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["file"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Format = "binary",
                    Description = "A .npy array (y, x, band) or (y, x, band, time), or a GeoTIFF of the ten bands.",
                },
            },
            Required = new HashSet<string> { "file" },
        };
        foreach (var field in typeof(MaskQuery).GetConstructors()[0].GetParameters())
        {
            var name = field.GetCustomAttribute<FromQueryAttribute>()?.Name ?? field.Name!;
            var type = Nullable.GetUnderlyingType(field.ParameterType) ?? field.ParameterType;
            var schema = new OpenApiSchema
            {
                Type = type == typeof(string) ? JsonSchemaType.String : type == typeof(int) ? JsonSchemaType.Integer : JsonSchemaType.Number,
                Description = field.GetCustomAttribute<DescriptionAttribute>()?.Description,
            };
            if (field.GetCustomAttribute<DefaultValueAttribute>() is { Value: { } value })
            {
                schema.Default = JsonSerializer.SerializeToNode(value);
            }

            if (field.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed)
            {
                schema.Enum = [.. allowed.Values.Select(v => JsonSerializer.SerializeToNode(v)!)];
            }

            form.Properties[name] = schema;
        }

        var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
        var json = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["shape"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Items = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    Description = "[y, x, 10] or [y, x, 10, time]",
                },
                ["data"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Items = new OpenApiSchema { Type = JsonSchemaType.Number | JsonSchemaType.Null },
                    Description = "The values, flat in row-major (C) order; null marks nodata.",
                },
            },
            Required = new HashSet<string> { "shape", "data" },
        };

        // The answer is a file in one of three formats.
        if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse { Content: { } okContent })
        {
            foreach (var media in okContent.Values)
            {
                media.Schema = binary;
            }
        }

        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "The bands B02 B03 B04 B05 B06 B07 B08 B8A B11 B12, in this order.",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["multipart/form-data"] = new() { Schema = form },
                ["application/x-npy"] = new() { Schema = binary },
                ["image/tiff"] = new() { Schema = binary },
                ["application/octet-stream"] = new() { Schema = binary },
                ["application/json"] = new() { Schema = json, Example = JsonNode.Parse(JsonExample) },
            },
        };
    }
}
