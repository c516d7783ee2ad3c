namespace S2CloudMask.Testing;

/// <summary>
/// (One file, linked into every test project: tests/Shared.)
/// Locates the read-only reference material in <c>../shared</c> beside the repository.
/// It is never copied into the repository, so tests that need it find it here or are
/// skipped with the path they looked for; under CI (<c>CI=true</c>) they run and fail instead.
/// </summary>
public static class SharedData
{
    public static string Root { get; } = FindRoot();

    /// <summary>The repository root (the folder holding S2CloudMask.sln), or null when not found.</summary>
    public static string? RepositoryRoot { get; } = FindRepositoryRoot();

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

        return Path.GetFullPath(Path.Combine(FindRepositoryRoot() ?? Directory.GetCurrentDirectory(), "..", "shared"));
    }

    private static string? FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "S2CloudMask.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
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
