using Microsoft.Extensions.Options;

namespace S2CloudMask.Api.Models;

/// <summary>Section <c>Models</c>: directories of <c>*.model.json</c> loaded after the built-in models.</summary>
public sealed class ModelsOptions
{
    public const string Section = "Models";

    /// <summary>Searched in order; a model in a later directory replaces one of the same name.</summary>
    public List<string> Directories { get; set; } = [];

    /// <summary>
    /// Whether the service's own models (trained by src/Train, embedded in the assembly) are
    /// offered; off for a deployment that wants only the models of its directories.
    /// </summary>
    public bool IncludeBuiltIn { get; set; } = true;
}

/// <summary>Fails start-up naming a configured model directory that does not exist.</summary>
public sealed class ModelsOptionsValidator : IValidateOptions<ModelsOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelsOptions options)
    {
        var missing = options.Directories.Where(d => !Directory.Exists(d)).ToList();
        return missing.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(missing.Select(d => $"Models:Directories: '{d}' (full path {Path.GetFullPath(d)}) does not exist"));
    }
}
