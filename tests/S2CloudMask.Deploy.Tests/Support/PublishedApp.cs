namespace S2CloudMask.Deploy.Tests.Support;

/// <summary>
/// <c>dotnet publish src/Api -c Release</c> into a temporary folder, as the image's build stage
/// does, then made read-only (chmod -R a-w) like the image's root filesystem. Intermediate
/// files go to the same temporary folder (--artifacts-path), so the publish never touches the
/// bin/obj folders other builds and tests are using. Everything is deleted on dispose.
/// </summary>
public sealed class PublishedApp : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "s2cm-deploy-" + Guid.NewGuid().ToString("N")[..12]);

    public string AppDirectory => Path.Combine(Root, "app");

    /// <summary>Why publishing failed (tests then fail with it), or null.</summary>
    public string? PublishError { get; private set; }

    public string PublishLog { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        try
        {
            var result = await Tools.RunAsync(
                ServiceProcess.DotnetHost(),
                [
                    "publish", Repo.ApiProject, "-c", "Release", "-o", AppDirectory,
                    "--artifacts-path", Path.Combine(Root, "artifacts"),
                    "--disable-build-servers", "--nologo", "-v", "q", "-p:UseAppHost=false",
                ],
                TimeSpan.FromMinutes(10),
                environment: new Dictionary<string, string?>
                {
                    // The test host's MSBuild variables would point the nested build at the test's own SDK state.
                    ["MSBuildExtensionsPath"] = null,
                    ["MSBuildSDKsPath"] = null,
                    ["MSBUILD_EXE_PATH"] = null,
                    ["MSBuildLoadMicrosoftTargetsReadOnly"] = null,
                    ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                    ["DOTNET_NOLOGO"] = "1",
                });
            PublishLog = result.Output;
            if (result.ExitCode != 0)
            {
                PublishError = $"dotnet publish {Repo.ApiProject} failed (exit {result.ExitCode}):\n{result.Output}";
                return;
            }

            MakeReadOnly(AppDirectory);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            PublishError = e.Message;
        }
    }

    public void RequirePublished()
    {
        if (PublishError is not null)
        {
            throw new InvalidOperationException(PublishError);
        }
    }

    /// <summary>A new folder under the temporary root, writable by everyone (the service runs as another user).</summary>
    public string NewWritableDirectory(string name)
    {
        var path = Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, (UnixFileMode)0b111_111_111);
        return path;
    }

    /// <summary>A new read-only folder (like the container's HOME on a read-only root filesystem).</summary>
    public string NewReadOnlyDirectory(string name)
    {
        var path = Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, (UnixFileMode)0b101_101_101);
        return path;
    }

    /// <summary>A writable copy of the published app (to add a settings file), then made read-only.</summary>
    public string CopyApp(string name, IReadOnlyDictionary<string, string> extraFiles)
    {
        RequirePublished();
        var target = Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (var source in Directory.EnumerateFiles(AppDirectory, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(AppDirectory, source));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(source, destination);
            File.SetUnixFileMode(destination, (UnixFileMode)0b110_100_100);
        }

        foreach (var (file, content) in extraFiles)
        {
            File.WriteAllText(Path.Combine(target, file), content);
        }

        MakeReadOnly(target);
        return target;
    }

    /// <summary>A listing (path and size) of a folder, to show that the service wrote nothing there.</summary>
    public static IReadOnlyList<string> Listing(string directory) =>
        [.. Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(directory, p) + (File.Exists(p) ? ":" + new FileInfo(p).Length : "/"))
            .Order(StringComparer.Ordinal)];

    public Task DisposeAsync()
    {
        if (Directory.Exists(Root))
        {
            MakeWritable(Root);
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // a file still held by a process that is going away; retry once
                Thread.Sleep(500);
                Directory.Delete(Root, recursive: true);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>chmod -R a-w.</summary>
    private static void MakeReadOnly(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(file, File.GetUnixFileMode(file) & ~(UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        }

        foreach (var dir in Directory.EnumerateDirectories(directory, "*", SearchOption.AllDirectories).Append(directory))
        {
            File.SetUnixFileMode(dir, File.GetUnixFileMode(dir) & ~(UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        }
    }

    private static void MakeWritable(string directory)
    {
        File.SetUnixFileMode(directory, File.GetUnixFileMode(directory) | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var dir in Directory.EnumerateDirectories(directory, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(dir, File.GetUnixFileMode(dir) | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
