using System.Text.RegularExpressions;
using S2CloudMask.Deploy.Tests.Support;

namespace S2CloudMask.Deploy.Tests;

/// <summary>
/// deploy/Dockerfile read statically (no container engine is assumed): instructions are joined
/// across line continuations and comments dropped, then checked piece by piece.
/// </summary>
public sealed class DockerfileTests
{
    private static readonly Lazy<IReadOnlyList<string>> InstructionsLazy = new(ReadInstructions);

    private static IReadOnlyList<string> Instructions => InstructionsLazy.Value;

    private static IEnumerable<string> Of(string keyword) =>
        Instructions.Where(i => i.StartsWith(keyword + " ", StringComparison.OrdinalIgnoreCase));

    [Fact]
    public void Base_and_sdk_images_are_build_arguments_with_dotnet_10_defaults()
    {
        Assert.Contains("ARG BASE=mcr.microsoft.com/dotnet/aspnet:10.0", Instructions);
        Assert.Contains("ARG SDK=mcr.microsoft.com/dotnet/sdk:10.0", Instructions);
        // The ARGs come before the first FROM so FROM can use them.
        var firstFrom = Instructions.ToList().FindIndex(i => i.StartsWith("FROM ", StringComparison.Ordinal));
        Assert.True(Instructions.ToList().FindIndex(i => i.StartsWith("ARG BASE=", StringComparison.Ordinal)) < firstFrom);
        Assert.True(Instructions.ToList().FindIndex(i => i.StartsWith("ARG SDK=", StringComparison.Ordinal)) < firstFrom);
    }

    [Fact]
    public void It_is_multi_stage_publishing_the_api_with_the_sdk_and_running_on_aspnet()
    {
        var froms = Of("FROM").ToList();
        Assert.Equal(2, froms.Count);
        Assert.Matches(@"^FROM \$\{?SDK\}? AS build$", froms[0]);
        Assert.Matches(@"^FROM \$\{?BASE\}?( AS \w+)?$", froms[1]);

        var runs = Of("RUN").ToList();
        Assert.Contains(runs, r => r.Contains("dotnet restore src/Api/S2CloudMask.Api.csproj", StringComparison.Ordinal));
        Assert.Contains(runs, r => r.Contains("dotnet publish src/Api/S2CloudMask.Api.csproj", StringComparison.Ordinal) && r.Contains("-c Release", StringComparison.Ordinal) && r.Contains("-o /app", StringComparison.Ordinal));
        Assert.Contains(Of("COPY"), c => c.StartsWith("COPY --from=build", StringComparison.Ordinal) && c.EndsWith(" /app ./", StringComparison.Ordinal));
        Assert.Contains("WORKDIR /app", Instructions);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"S2CloudMask.Api.dll\"]", Instructions);

        // Every project the publish needs is copied into the build stage.
        foreach (var needed in new[] { "src/Engine/S2CloudMask.Engine.csproj", "src/Api/S2CloudMask.Api.csproj", "Directory.Build.props", "Directory.Packages.props", "global.json" })
        {
            Assert.True(File.Exists(Path.Combine(Repo.Root, needed)), $"{needed} is missing from the repository");
            Assert.Contains(Of("COPY"), c => c.Contains(needed.Split('/')[^1], StringComparison.Ordinal) || c.Contains(Path.GetDirectoryName(needed)!.Replace('\\', '/') + "/ ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Build_stage_copies_every_project_the_api_references()
    {
        // The build stage copies projects one by one (for the restore cache): a new
        // ProjectReference of src/Api (or of what it references) must be copied too.
        var copies = string.Join('\n', Of("COPY"));
        var pending = new Queue<string>([Repo.ApiProject]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryDequeue(out var project))
        {
            if (!seen.Add(project))
            {
                continue;
            }

            var relativeDir = Path.GetRelativePath(Repo.Root, Path.GetDirectoryName(project)!).Replace('\\', '/');
            Assert.True(copies.Contains(relativeDir + "/" + Path.GetFileName(project), StringComparison.Ordinal), $"deploy/Dockerfile does not copy {relativeDir}/{Path.GetFileName(project)} before the restore");
            Assert.True(copies.Contains($"COPY {relativeDir}/ {relativeDir}/", StringComparison.Ordinal), $"deploy/Dockerfile does not copy the sources of {relativeDir}/");

            var xml = System.Xml.Linq.XDocument.Load(project);
            foreach (var reference in xml.Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")?.Value.Replace('\\', '/');
                if (!string.IsNullOrEmpty(include))
                {
                    pending.Enqueue(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, include)));
                }
            }
        }
    }

    [Fact]
    public void Runtime_stage_installs_gdal_and_curl_from_the_distribution_and_cleans_apt_lists()
    {
        var runtime = RuntimeStage();
        var install = Assert.Single(runtime, i => i.StartsWith("RUN ", StringComparison.Ordinal) && i.Contains("apt-get install", StringComparison.Ordinal));
        Assert.Contains("apt-get update", install, StringComparison.Ordinal);
        Assert.Contains("--no-install-recommends", install, StringComparison.Ordinal);
        Assert.Matches(@"\bgdal-bin\b|\blibgdal\d*\b", install);
        Assert.Matches(@"\bcurl\b", install);
        Assert.Contains("rm -rf /var/lib/apt/lists/*", install, StringComparison.Ordinal);
        // Nothing downloaded by hand.
        Assert.DoesNotContain(Instructions, i => Regex.IsMatch(i, @"\b(wget|curl)\s+(-\S+\s+)*https?://") && i.StartsWith("RUN ", StringComparison.Ordinal));
        Assert.DoesNotContain(Instructions, i => i.StartsWith("ADD http", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Runtime_runs_as_non_root_on_port_8080_with_a_healthcheck()
    {
        var runtime = RuntimeStage();
        var user = Assert.Single(runtime, i => i.StartsWith("USER ", StringComparison.Ordinal));
        var who = user["USER ".Length..].Split(':')[0];
        Assert.True(who is "$APP_UID" or "${APP_UID}" || (int.TryParse(who, out var uid) && uid > 0), $"the runtime user must be non-root and numeric or $APP_UID: {user}");
        Assert.True(runtime.IndexOf(user) > runtime.FindIndex(i => i.Contains("apt-get install", StringComparison.Ordinal)), "USER must come after the package installation");

        Assert.Contains("EXPOSE 8080", runtime);
        var healthcheck = Assert.Single(runtime, i => i.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
        Assert.Contains("/healthz", healthcheck, StringComparison.Ordinal);
        Assert.Contains("CMD ", healthcheck, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_fits_a_read_only_root_filesystem()
    {
        var env = string.Join(' ', RuntimeStage().Where(i => i.StartsWith("ENV ", StringComparison.Ordinal)));
        Assert.Contains("ASPNETCORE_HTTP_PORTS=8080", env, StringComparison.Ordinal);
        Assert.Contains("DOTNET_EnableDiagnostics=0", env, StringComparison.Ordinal);
        Assert.Contains("Cache__Directory=/var/cache/s2cloudmask", env, StringComparison.Ordinal);
        Assert.Contains("Logging__Json=true", env, StringComparison.Ordinal);
        Assert.Contains("ASPNETCORE_ENVIRONMENT=Production", env, StringComparison.Ordinal);
        Assert.Contains(RuntimeStage(), i => i.StartsWith("VOLUME ", StringComparison.Ordinal) && i.Contains("/var/cache/s2cloudmask", StringComparison.Ordinal));

        // The documented settings are named in the file (as comments) so operators find them.
        var text = File.ReadAllText(Repo.Dockerfile);
        foreach (var setting in new[]
                 {
                     "Models__Directories__0", "Cache__Directory", "Limits__MaxBodyBytes", "Limits__MaxPixels", "Engine__Workers",
                     "Engine__QueueLength", "Logging__Json", "Cache__Redis", "Remote__AllowedPrefixes__0", "Remote__AllowPrivateNetworks",
                     "Remote__TimeoutSeconds", "Remote__ReadTimeoutSeconds",
                 })
        {
            Assert.Contains(setting, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Dockerignore_keeps_outputs_history_tests_and_benchmarks_out_of_the_context()
    {
        var path = Path.Combine(Repo.Root, ".dockerignore");
        Assert.True(File.Exists(path), $"missing {path}");
        var lines = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        foreach (var pattern in new[] { "**/bin/", "**/obj/", ".git/", "tests/", "bench/" })
        {
            Assert.Contains(pattern, lines);
        }

        // What the build stage copies must not be ignored.
        foreach (var needed in new[] { "src/", "global.json", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.DoesNotContain(needed, lines);
        }
    }

    private static List<string> RuntimeStage()
    {
        var list = Instructions.ToList();
        var lastFrom = list.FindLastIndex(i => i.StartsWith("FROM ", StringComparison.Ordinal));
        return list.Skip(lastFrom).ToList();
    }

    private static IReadOnlyList<string> ReadInstructions()
    {
        Assert.True(File.Exists(Repo.Dockerfile), $"missing {Repo.Dockerfile}");
        var instructions = new List<string>();
        var current = "";
        foreach (var raw in File.ReadAllLines(Repo.Dockerfile))
        {
            var line = raw.Trim();
            if (line.StartsWith('#'))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1].Trim() + " ";
                continue;
            }

            current += line;
            if (current.Trim().Length > 0)
            {
                instructions.Add(Regex.Replace(current.Trim(), @"\s+", " "));
            }

            current = "";
        }

        return instructions;
    }
}
