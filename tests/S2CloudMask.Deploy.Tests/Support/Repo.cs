namespace S2CloudMask.Deploy.Tests.Support;

/// <summary>Paths of the repository, its deploy/ folder and the reference material in ../shared.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Deploy => Path.Combine(Root, "deploy");

    public static string Dockerfile => Path.Combine(Deploy, "Dockerfile");

    public static string HelmRoot => Path.Combine(Deploy, "helm");

    public static string Chart => Path.Combine(HelmRoot, "s2cloudmask");

    public static string Templates => Path.Combine(Chart, "templates");

    public static string ApiProject => Path.Combine(Root, "src", "Api", "S2CloudMask.Api.csproj");

    /// <summary>CI=true: a missing tool or ../shared is a failure, not a skip.</summary>
    public static bool RequiredByCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>../shared beside the repository, or S2CLOUDMASK_SHARED.</summary>
    public static string SharedRoot { get; } = FindShared();

    public static string SharedModels => Path.Combine(SharedRoot, "models");

    /// <summary>The published models the service tests use (fast, spectral).</summary>
    public static bool SharedModelsAvailable =>
        File.Exists(Path.Combine(SharedModels, "fast.model.json")) && File.Exists(Path.Combine(SharedModels, "spectral.model.json"));

    public static string SharedSkipReason => $"needs the published models in {SharedModels} (absent)";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "S2CloudMask.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"S2CloudMask.sln not found above {AppContext.BaseDirectory}");
    }

    private static string FindShared()
    {
        var fromEnv = Environment.GetEnvironmentVariable("S2CLOUDMASK_SHARED");
        return !string.IsNullOrEmpty(fromEnv)
            ? Path.GetFullPath(fromEnv)
            : Path.GetFullPath(Path.Combine(Root, "..", "shared"));
    }
}

/// <summary>A fact that needs the published models in ../shared: skipped (naming the path) when absent, unless CI=true.</summary>
public sealed class SharedModelsFactAttribute : FactAttribute
{
    public SharedModelsFactAttribute()
    {
        if (!Repo.SharedModelsAvailable && !Repo.RequiredByCi)
        {
            Skip = Repo.SharedSkipReason;
        }
    }
}
