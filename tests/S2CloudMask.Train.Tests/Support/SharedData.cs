namespace S2CloudMask.Train.Tests.Support;

/// <summary>
/// Locates the read-only reference material in <c>../shared</c> beside the repository.
/// It is never copied into the repository, so tests that need it find it here or are
/// skipped with the path they looked for; under CI (<c>CI=true</c>) they run and fail instead.
/// </summary>
public static class SharedData
{
    public static string Root { get; } = FindRoot();

    public static bool Available => Directory.Exists(Path.Combine(Root, "golden"));

    public static bool RequiredByCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string SkipReason => $"needs the shared reference material at {Root} (absent)";

    public static string Models => Path.Combine(Root, "models");
    public static string Data(string name) => Path.Combine(Root, "data", name);
    public static string Golden(string name) => Path.Combine(Root, "golden", name);
    public static string Labels(string name) => Path.Combine(Root, "labels", name);
    public static string Model(string name) => Path.Combine(Root, "models", name + ".model.json");

    /// <summary>Fails with the path when the material is missing (only reached under CI).</summary>
    public static void Require()
    {
        if (!Available)
        {
            throw new InvalidOperationException($"CI=true but the shared reference material is missing: looked for {Root}");
        }
    }

    private static string FindRoot()
    {
        var fromEnv = Environment.GetEnvironmentVariable("S2CLOUDMASK_SHARED");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return Path.GetFullPath(fromEnv);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "S2CloudMask.sln")))
            {
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
            }
        }

        return Path.GetFullPath(Path.Combine(Directory.GetCurrentDirectory(), "..", "shared"));
    }
}

/// <summary>A fact that needs <c>../shared</c>: skipped (naming the path) when it is absent, unless CI=true.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute()
    {
        if (!SharedData.Available && !SharedData.RequiredByCi)
        {
            Skip = SharedData.SkipReason;
        }
    }
}

/// <summary>A theory that needs <c>../shared</c>; see <see cref="SharedFactAttribute"/>.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute()
    {
        if (!SharedData.Available && !SharedData.RequiredByCi)
        {
            Skip = SharedData.SkipReason;
        }
    }
}

/// <summary>The repository checkout the tests run from (where S2CloudMask.sln is).</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string BuiltInModels => Path.Combine(Root, "src", "Api", "Models", "BuiltIn");

    public static string Tool(string name) => Path.Combine(Root, "tools", name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "S2CloudMask.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no S2CloudMask.sln above {AppContext.BaseDirectory}");
    }
}
