using System.Text.Json;
using S2CloudMask.Engine.Models;
using S2CloudMask.Train.Tests.Support;
using Xunit.Abstractions;

namespace S2CloudMask.Train.Tests.Models;

/// <summary>The path users of the Python s2cloudmask take: their pickles, converted, loaded by the engine.</summary>
public sealed class PublishedModelTests(ITestOutputHelper output)
{
    public static TheoryData<string> Published => new() { "fast", "spectral", "fast-shadow" };

    [SharedTheory]
    [MemberData(nameof(Published))]
    public void EngineLoadsThePublishedModelFiles(string name)
    {
        SharedData.Require();
        var model = ModelFile.Load(SharedData.Model(name));
        Assert.Equal(name, model.Name);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(SharedData.Model(name)));
        Assert.Equal(doc.RootElement.GetProperty("features").GetArrayLength(), model.Features.FeatureCount);
        Assert.Equal(name == "fast-shadow", model.NeedsReference);
        Assert.Equal(name == "fast-shadow" ? "shadow" : "cloud", model.Target);
        Assert.Equal(name == "spectral" ? 200 : 1, model.Ensemble.TreeCount);
    }

    [PythonFact]
    public void ExportToolReproducesThePublishedModelFilesFromThePickles()
    {
        var outDir = Path.Combine(Path.GetTempPath(), "s2cloudmask-export-" + Guid.NewGuid().ToString("N"));
        try
        {
            var pickles = Directory.GetFiles(Path.Combine(SharedData.Root, "reference"), "*.pkl.xz").Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(3, pickles.Length);
            var (code, log) = Python.Run([Repository.Tool("export_s2cloudmask.py"), "--out", outDir, .. pickles]);
            output.WriteLine(log);
            Assert.True(code == 0, log);
            foreach (var name in new[] { "fast", "spectral", "fast-shadow" })
            {
                var path = Path.Combine(outDir, name + ModelFile.Extension);
                using var ours = JsonDocument.Parse(File.ReadAllBytes(path));
                using var theirs = JsonDocument.Parse(File.ReadAllBytes(SharedData.Model(name)));
                var a = ours.RootElement;
                var b = theirs.RootElement;
                AssertJsonEqual(b.GetProperty("features"), a.GetProperty("features"), $"{name}.features");
                AssertJsonEqual(b.GetProperty("bands"), a.GetProperty("bands"), $"{name}.bands");
                AssertJsonEqual(b.GetProperty("postprocess"), a.GetProperty("postprocess"), $"{name}.postprocess");
                var ea = a.GetProperty("ensemble");
                var eb = b.GetProperty("ensemble");
                Assert.Equal(eb.GetProperty("kind").GetString(), ea.GetProperty("kind").GetString());
                if (eb.GetProperty("kind").GetString() == "xgboost-json")
                {
                    var ta = Trees(ea).ToList();
                    var tb = Trees(eb).ToList();
                    Assert.Equal(tb.Count, ta.Count);
                    for (var t = 0; t < tb.Count; t++)
                    {
                        foreach (var key in new[] { "left_children", "right_children", "split_indices", "split_conditions", "default_left" })
                        {
                            AssertJsonEqual(tb[t].GetProperty(key), ta[t].GetProperty(key), $"{name} tree {t} {key}");
                        }
                    }

                    AssertJsonEqual(
                        eb.GetProperty("model").GetProperty("learner").GetProperty("learner_model_param"),
                        ea.GetProperty("model").GetProperty("learner").GetProperty("learner_model_param"),
                        $"{name} learner_model_param");
                }
                else
                {
                    foreach (var key in new[] { "children_left", "children_right", "feature", "threshold", "value", "classes" })
                    {
                        AssertJsonEqual(eb.GetProperty(key), ea.GetProperty(key), $"{name}.{key}");
                    }
                }

                // And the service can load what the tool wrote.
                var model = ModelFile.Load(path);
                Assert.Equal(name, model.Name);
            }
        }
        finally
        {
            if (Directory.Exists(outDir))
            {
                Directory.Delete(outDir, recursive: true);
            }
        }
    }

    private static IEnumerable<JsonElement> Trees(JsonElement ensemble) =>
        ensemble.GetProperty("model").GetProperty("learner").GetProperty("gradient_booster").GetProperty("model").GetProperty("trees").EnumerateArray();

    /// <summary>Structural equality; numbers compared as doubles (the same value may be written differently).</summary>
    private static void AssertJsonEqual(JsonElement expected, JsonElement actual, string where)
    {
        Assert.True(expected.ValueKind == actual.ValueKind, $"{where}: {expected.ValueKind} vs {actual.ValueKind}");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Array:
                Assert.True(expected.GetArrayLength() == actual.GetArrayLength(), $"{where}: length {expected.GetArrayLength()} vs {actual.GetArrayLength()}");
                var i = 0;
                foreach (var (e, a) in expected.EnumerateArray().Zip(actual.EnumerateArray()))
                {
                    AssertJsonEqual(e, a, $"{where}[{i++}]");
                }

                break;
            case JsonValueKind.Object:
                foreach (var p in expected.EnumerateObject())
                {
                    Assert.True(actual.TryGetProperty(p.Name, out var v), $"{where}: no '{p.Name}'");
                    AssertJsonEqual(p.Value, v, $"{where}.{p.Name}");
                }

                break;
            case JsonValueKind.Number:
                Assert.True(expected.GetDouble() == actual.GetDouble(), $"{where}: {expected} vs {actual}");
                break;
            default:
                Assert.True(expected.ToString() == actual.ToString(), $"{where}: {expected} vs {actual}");
                break;
        }
    }
}
