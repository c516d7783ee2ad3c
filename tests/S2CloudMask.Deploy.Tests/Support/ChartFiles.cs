using System.Text.Json.Nodes;

namespace S2CloudMask.Deploy.Tests.Support;

/// <summary>
/// The chart's YAML read through python3-yaml (as JSON), and values checked against
/// values.schema.json with python3-jsonschema, the way helm does: the override deep-merged
/// into values.yaml first.
/// </summary>
public static class ChartFiles
{
    public static string ValuesYaml => Path.Combine(Repo.Chart, "values.yaml");

    public static string ValuesSchema => Path.Combine(Repo.Chart, "values.schema.json");

    private const string YamlToJson = """
        import json, sys, yaml
        with open(sys.argv[1], encoding="utf-8") as f:
            print(json.dumps(yaml.safe_load(f)))
        """;

    // argv: schema, base values ("" for none); stdin: the document (YAML or JSON). Prints one
    // "path: message" line per error; exit 1 when there are errors, 2 when the schema is invalid.
    private const string Validate = """
        import json, sys, yaml, jsonschema
        def merge(base, over):
            if isinstance(base, dict) and isinstance(over, dict):
                out = dict(base)
                for k, v in over.items():
                    out[k] = merge(base[k], v) if k in base else v
                return out
            return over
        with open(sys.argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        try:
            jsonschema.Draft7Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            print("invalid schema: " + e.message)
            sys.exit(2)
        doc = yaml.safe_load(sys.stdin.read())
        if sys.argv[2]:
            with open(sys.argv[2], encoding="utf-8") as f:
                doc = merge(yaml.safe_load(f), doc)
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: [str(p) for p in e.path])
        for e in errors:
            print("/".join(str(p) for p in e.path) + ": " + e.message)
        sys.exit(1 if errors else 0)
        """;

    public static async Task<JsonNode> ReadYamlAsync(string path)
    {
        Tools.RequirePythonModules();
        var result = await Tools.RunAsync(Tools.Python, ["-c", YamlToJson, path], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"python3-yaml could not read {path}:\n{result.Output}");
        return JsonNode.Parse(result.Stdout) ?? throw new InvalidOperationException($"{path} is empty");
    }

    /// <summary>Validates a document (YAML or JSON text) against values.schema.json, optionally merged into values.yaml.</summary>
    public static async Task<ToolResult> ValidateAsync(string document, bool mergeIntoDefaults)
    {
        Tools.RequirePythonModules();
        var result = await Tools.RunAsync(
            Tools.Python,
            ["-c", Validate, ValuesSchema, mergeIntoDefaults ? ValuesYaml : ""],
            TimeSpan.FromSeconds(60),
            stdin: document);
        Assert.True(result.ExitCode is 0 or 1, $"schema validation did not run (exit {result.ExitCode}):\n{result.Output}");
        return result;
    }
}
