namespace S2CloudMask.Engine.Models;

/// <summary>
/// The models a service offers, by name: built-in models first, then every
/// <c>*.model.json</c> of the configured directories in order (a later one of the same name
/// replaces an earlier one, so a directory can override a built-in model).
/// </summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, CloudModel> _models;

    public ModelCatalog(IEnumerable<CloudModel> models)
    {
        _models = new Dictionary<string, CloudModel>(StringComparer.OrdinalIgnoreCase);
        foreach (var m in models)
        {
            _models[m.Name] = m;
        }
    }

    public IReadOnlyCollection<CloudModel> Models => _models.Values;

    public static ModelCatalog Load(IEnumerable<CloudModel> builtIn, IEnumerable<string> directories)
    {
        var models = new List<CloudModel>(builtIn);
        foreach (var dir in directories)
        {
            if (!Directory.Exists(dir))
            {
                throw new DirectoryNotFoundException($"model directory {dir} does not exist");
            }

            foreach (var file in Directory.EnumerateFiles(dir, "*" + ModelFile.Extension).Order(StringComparer.Ordinal))
            {
                models.Add(ModelFile.Load(file));
            }
        }

        return new ModelCatalog(models);
    }

    public bool TryGet(string name, out CloudModel model) => _models.TryGetValue(name, out model!);

    /// <summary>The named model, or an <see cref="InvalidInputException"/> listing the known ones.</summary>
    public CloudModel Get(string name)
    {
        if (_models.TryGetValue(name, out var m))
        {
            return m;
        }

        throw new InvalidInputException(
            "unknown-model",
            $"unknown model '{name}'; loaded models: {string.Join(", ", _models.Keys.Order(StringComparer.Ordinal))}");
    }
}
