using S2CloudMask.Engine;
using S2CloudMask.Engine.Models;

namespace S2CloudMask.Api.Models;

/// <summary>
/// Models embedded in this assembly from <c>Models/BuiltIn/*.model.json</c> (the trainer puts
/// them there). There may be none: the service then offers only the configured directories.
/// </summary>
public static class BuiltInModels
{
    /// <summary>The manifest name prefix the csproj gives the embedded files.</summary>
    public const string ResourcePrefix = "S2CloudMask.Api.Models.BuiltIn.";

    public static IReadOnlyList<CloudModel> Load()
    {
        var assembly = typeof(BuiltInModels).Assembly;
        var models = new List<CloudModel>();
        foreach (var resource in assembly.GetManifestResourceNames().Order(StringComparer.Ordinal))
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal)
                || !resource.EndsWith(ModelFile.Extension, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"embedded model {resource} cannot be opened");
            var file = resource[ResourcePrefix.Length..];
            try
            {
                models.Add(ModelFile.Parse(stream, "embedded:" + file));
            }
            catch (Exception e) when (e is not ModelFormatException)
            {
                throw new ModelFormatException($"embedded model {file}: {e.Message}", e);
            }
        }

        return models;
    }
}
