namespace S2CloudMask.Train.Tests.Support;

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
