using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using S2CloudMask.Deploy.Tests.Support;
using Xunit.Abstractions;

namespace S2CloudMask.Deploy.Tests;

/// <summary>
/// The helm chart without helm: its plain YAML passes yamllint, values.yaml (and the example
/// override in ci/) satisfies values.schema.json while broken values do not, every
/// <c>.Values.x.y</c> a template reads exists in values.yaml, and the templates' blocks balance.
/// </summary>
public sealed partial class HelmChartTests(ITestOutputHelper output)
{
    private static readonly string[] PlainYaml = ["Chart.yaml", "values.yaml", "ci/production-values.yaml"];

    [ToolFact("yamllint", "yamllint")]
    public async Task Chart_and_values_pass_yamllint()
    {
        var yamllint = Tools.Require("yamllint", "yamllint");
        var config = Path.Combine(Repo.HelmRoot, ".yamllint");
        Assert.True(File.Exists(config), $"missing {config}");

        var result = await Tools.RunAsync(
            yamllint,
            ["--strict", "--format", "parsable", "-c", config, .. PlainYaml.Select(f => Path.Combine(Repo.Chart, f))],
            TimeSpan.FromSeconds(120));
        output.WriteLine(result.Output);
        Assert.True(result.ExitCode == 0, $"yamllint found problems:\n{result.Output}");
    }

    [ToolFact("yamllint", "yamllint")]
    public async Task Yamllint_rejects_broken_yaml_with_the_same_config()
    {
        // The lint test can fail: a duplicated key and bad indentation are reported.
        var yamllint = Tools.Require("yamllint", "yamllint");
        var result = await Tools.RunAsync(
            yamllint,
            ["--strict", "--format", "parsable", "-c", Path.Combine(Repo.HelmRoot, ".yamllint"), "-"],
            TimeSpan.FromSeconds(120),
            stdin: "replicaCount: 1\nreplicaCount: 2\nimage:\n   repository: x\n  tag: y\n");
        output.WriteLine(result.Output);
        Assert.NotEqual(0, result.ExitCode);
    }

    [PythonFact]
    public async Task Values_yaml_satisfies_the_schema()
    {
        var result = await ChartFiles.ValidateAsync(await File.ReadAllTextAsync(ChartFiles.ValuesYaml), mergeIntoDefaults: false);
        Assert.True(result.ExitCode == 0, $"values.yaml does not satisfy values.schema.json:\n{result.Output}");
    }

    [PythonFact]
    public async Task Example_production_override_satisfies_the_schema()
    {
        var example = Path.Combine(Repo.Chart, "ci", "production-values.yaml");
        var result = await ChartFiles.ValidateAsync(await File.ReadAllTextAsync(example), mergeIntoDefaults: true);
        Assert.True(result.ExitCode == 0, $"{example} merged into values.yaml does not satisfy the schema:\n{result.Output}");
    }

    public static TheoryData<string, string, string> InvalidOverrides => new()
    {
        { "replicaCount as a word", "replicaCount: two", "replicaCount" },
        { "unknown cache type", "cache:\n  type: s3", "cache/type" },
        { "running as root allowed", "podSecurityContext:\n  runAsNonRoot: false", "podSecurityContext/runAsNonRoot" },
        { "service port out of range", "service:\n  port: 70000", "service/port" },
        { "unknown pull policy", "image:\n  pullPolicy: Sometimes", "image/pullPolicy" },
        { "negative workers", "config:\n  engine:\n    workers: -1", "config/engine/workers" },
        { "misspelt top-level key", "replicas: 3", "Additional properties" },
        { "CPU target above 100 %", "autoscaling:\n  targetCPUUtilizationPercentage: 150", "autoscaling/targetCPUUtilizationPercentage" },
        { "relative model mount path", "models:\n  mountPath: models", "models/mountPath" },
        { "body limit as text", "config:\n  limits:\n    maxBodyBytes: 1GiB", "config/limits/maxBodyBytes" },
    };

    [PythonTheory]
    [MemberData(nameof(InvalidOverrides))]
    public async Task Schema_rejects_invalid_values(string what, string overrideYaml, string expectedInError)
    {
        var result = await ChartFiles.ValidateAsync(overrideYaml, mergeIntoDefaults: true);
        output.WriteLine($"{what}:\n{result.Output}");
        Assert.True(result.ExitCode == 1, $"the schema accepted {what}: {overrideYaml}");
        Assert.Contains(expectedInError, result.Stdout, StringComparison.Ordinal);
    }

    [PythonFact]
    public async Task Every_values_path_the_templates_read_exists_in_values_yaml()
    {
        var values = await ChartFiles.ReadYamlAsync(ChartFiles.ValuesYaml);
        var references = TemplateFiles().SelectMany(ReferencesIn).Distinct().ToList();
        Assert.NotEmpty(references);

        var missing = new List<string>();
        foreach (var (file, path) in references)
        {
            JsonNode? node = values;
            foreach (var key in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
            {
                if (node is JsonObject obj && obj.TryGetPropertyValue(key, out var child))
                {
                    node = child ?? JsonValue.Create("null");
                }
                else
                {
                    missing.Add($"{file}: .Values{path} (no '{key}')");
                    break;
                }
            }
        }

        output.WriteLine($"{references.Count} references checked");
        Assert.True(missing.Count == 0, "templates read values that values.yaml does not define:\n" + string.Join('\n', missing.Distinct()));
    }

    [Fact]
    public void Templates_open_and_close_their_blocks()
    {
        foreach (var file in TemplateFiles())
        {
            var text = File.ReadAllText(file);
            Assert.True(
                Regex.Count(text, @"\{\{") == Regex.Count(text, @"\}\}"),
                $"{Path.GetFileName(file)}: unbalanced {{{{ }}}}");

            var depth = 0;
            foreach (Match action in TemplateAction().Matches(text))
            {
                var word = action.Groups["word"].Value;
                if (word is "if" or "range" or "with" or "define" or "block")
                {
                    depth++;
                }
                else if (word == "end")
                {
                    depth--;
                    Assert.True(depth >= 0, $"{Path.GetFileName(file)}: an {{{{ end }}}} without a block at offset {action.Index}");
                }
            }

            Assert.True(depth == 0, $"{Path.GetFileName(file)}: {depth} block(s) not closed with {{{{ end }}}}");
        }
    }

    [Fact]
    public void Chart_has_the_required_templates_and_metadata()
    {
        foreach (var name in new[]
                 {
                     "Chart.yaml", "values.yaml", "values.schema.json", "templates/_helpers.tpl", "templates/NOTES.txt",
                     "templates/deployment.yaml", "templates/service.yaml", "templates/hpa.yaml", "templates/pdb.yaml",
                     "templates/serviceaccount.yaml", "templates/configmap.yaml", "templates/ingress.yaml", "templates/pvc.yaml",
                 })
        {
            Assert.True(File.Exists(Path.Combine(Repo.Chart, name)), $"chart file missing: {name}");
        }

        var chart = File.ReadAllText(Path.Combine(Repo.Chart, "Chart.yaml"));
        Assert.Matches(@"(?m)^apiVersion: v2$", chart);
        Assert.Matches(@"(?m)^name: s2cloudmask$", chart);
        Assert.Matches(@"(?m)^version: \d+\.\d+\.\d+", chart);
        Assert.Matches(@"(?m)^appVersion: ", chart);

        var helpers = File.ReadAllText(Path.Combine(Repo.Templates, "_helpers.tpl"));
        foreach (var label in new[] { "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart" })
        {
            Assert.Contains(label + ":", helpers, StringComparison.Ordinal);
        }

        var notes = File.ReadAllText(Path.Combine(Repo.Templates, "NOTES.txt"));
        Assert.Contains("port-forward svc/", notes, StringComparison.Ordinal);
        Assert.Contains("http://127.0.0.1:8080/swagger", notes, StringComparison.Ordinal);

        var hpa = File.ReadAllText(Path.Combine(Repo.Templates, "hpa.yaml"));
        Assert.Contains("autoscaling/v2", hpa, StringComparison.Ordinal);
        Assert.Contains("name: cpu", hpa, StringComparison.Ordinal);
    }

    [Fact]
    public void Deployment_probes_shutdown_and_volumes_match_the_service()
    {
        var deployment = File.ReadAllText(Path.Combine(Repo.Templates, "deployment.yaml"));
        foreach (var piece in new[]
                 {
                     "livenessProbe:", "readinessProbe:", "startupProbe:", "path: /healthz", "path: /readyz",
                     "type: RollingUpdate", "terminationGracePeriodSeconds:", "preStop:", "\"sleep\"",
                     "mountPath: /tmp", "mountPath: /var/cache/s2cloudmask",
                     "mountPath: /app/appsettings.Production.json", "subPath: appsettings.Production.json",
                     "checksum/config:", "ASPNETCORE_ENVIRONMENT", "value: Production",
                     "Cache__Redis", "secretKeyRef:", "Models__Directories__0",
                     // The host reads shutdownTimeoutSeconds from configuration (HostOptions.ShutdownTimeout).
                     "DOTNET_shutdownTimeoutSeconds",
                 })
        {
            Assert.Contains(piece, deployment, StringComparison.Ordinal);
        }

        // Probe paths must exist in the service (src/Api maps them); the template's path is the contract.
        var configmap = File.ReadAllText(Path.Combine(Repo.Templates, "configmap.yaml"));
        Assert.Contains("appsettings.Production.json:", configmap, StringComparison.Ordinal);
        foreach (var section in new[] { "\"Logging\"", "\"Limits\"", "\"Engine\"", "\"MaxBodyBytes\"", "\"MaxPixels\"", "\"Workers\"", "\"QueueLength\"", "\"Json\"" })
        {
            Assert.Contains(section, configmap, StringComparison.Ordinal);
        }
    }

    [PythonFact]
    public async Task Default_values_are_secure_and_graceful()
    {
        var values = await ChartFiles.ReadYamlAsync(ChartFiles.ValuesYaml);
        var container = values["securityContext"]!;
        Assert.True(container["runAsNonRoot"]!.GetValue<bool>());
        Assert.Equal(1654, container["runAsUser"]!.GetValue<int>());
        Assert.True(container["readOnlyRootFilesystem"]!.GetValue<bool>());
        Assert.False(container["allowPrivilegeEscalation"]!.GetValue<bool>());
        Assert.Equal("ALL", container["capabilities"]!["drop"]![0]!.GetValue<string>());
        Assert.Equal("RuntimeDefault", container["seccompProfile"]!["type"]!.GetValue<string>());
        Assert.True(values["podSecurityContext"]!["runAsNonRoot"]!.GetValue<bool>());

        Assert.Equal("ClusterIP", values["service"]!["type"]!.GetValue<string>());
        Assert.Equal(80, values["service"]!["port"]!.GetValue<int>());
        Assert.Equal(8080, values["containerPort"]!.GetValue<int>());
        Assert.False(values["ingress"]!["enabled"]!.GetValue<bool>());
        Assert.False(values["autoscaling"]!["enabled"]!.GetValue<bool>());
        Assert.Equal("emptyDir", values["cache"]!["type"]!.GetValue<string>());

        // SIGTERM comes after the preStop sleep; the host then waits shutdownTimeoutSeconds for
        // in-flight requests; Kubernetes kills at terminationGracePeriodSeconds.
        var grace = values["terminationGracePeriodSeconds"]!.GetValue<int>();
        var preStop = values["preStopSleepSeconds"]!.GetValue<int>();
        var shutdown = values["config"]!["shutdownTimeoutSeconds"]!.GetValue<int>();
        Assert.InRange(preStop, 2, 30);
        Assert.True(preStop + shutdown < grace, $"preStop {preStop} s + shutdown {shutdown} s must be < grace {grace} s");
    }

    /// <summary>
    /// Every .Values.x.y of a template, and every $v.x.y where the template set {{ $v := .Values.a.b }}
    /// (read as .Values.a.b.x.y).
    /// </summary>
    private static IEnumerable<(string File, string Path)> ReferencesIn(string file)
    {
        var text = File.ReadAllText(file);
        var name = Path.GetFileName(file);
        foreach (Match m in ValuesReference().Matches(text))
        {
            yield return (name, m.Groups["path"].Value);
        }

        foreach (Match alias in ValuesAlias().Matches(text))
        {
            var variable = alias.Groups["var"].Value;
            var prefix = alias.Groups["path"].Value;
            foreach (Match use in Regex.Matches(text, @"\$" + variable + @"(?<path>(\.[A-Za-z0-9_]+)+)"))
            {
                yield return (name, prefix + use.Groups["path"].Value);
            }
        }
    }

    private static IEnumerable<string> TemplateFiles() =>
        Directory.EnumerateFiles(Repo.Templates).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".tpl", StringComparison.Ordinal) || f.EndsWith(".txt", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

    [GeneratedRegex(@"\.Values(?<path>(\.[A-Za-z0-9_]+)+)")]
    private static partial Regex ValuesReference();

    [GeneratedRegex(@"\$(?<var>[A-Za-z_][A-Za-z0-9_]*)\s*:=\s*\$?\.Values(?<path>(\.[A-Za-z0-9_]+)+)")]
    private static partial Regex ValuesAlias();

    [GeneratedRegex(@"\{\{-?\s*(?<word>if|range|with|define|block|end)\b")]
    private static partial Regex TemplateAction();
}
