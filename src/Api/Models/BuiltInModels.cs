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

    public static IReadOnlyList<CloudModel> Load() => ModelFile.LoadEmbedded(typeof(BuiltInModels).Assembly, ResourcePrefix);
}
