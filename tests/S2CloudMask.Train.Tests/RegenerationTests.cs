using System.Text.Json;
using S2CloudMask.Engine.Models;
using S2CloudMask.Train.Data;
using S2CloudMask.Train.Tests.Support;
using Xunit.Abstractions;

namespace S2CloudMask.Train.Tests;

/// <summary>
/// The committed model files are exactly what the documented command produces, and they do
/// what the report says. One regeneration (about 15 s on two cores) serves every test here.
/// </summary>
public sealed class RegenerationTests(RegenerationFixture fixture, ITestOutputHelper output) : IClassFixture<RegenerationFixture>
{
    public static TheoryData<string> ShippedFiles => new() { "spectral.model.json", "fast.model.json", "temporal.model.json", "REPORT.md" };

    [SharedTheory]
    [MemberData(nameof(ShippedFiles))]
    public void RegeneratingReproducesTheCommittedFileByteForByte(string file)
    {
        var result = fixture.Result;
        output.WriteLine($"regenerated {result.Models.Count} models in {fixture.Elapsed.TotalSeconds:F1} s\n{fixture.Log}");
        var committed = Path.Combine(Repository.BuiltInModels, file);
        Assert.True(File.Exists(committed), $"{committed} is missing: run `{Trainer.RegenerateCommand}`");
        var expected = File.ReadAllBytes(committed);
        var actual = File.ReadAllBytes(Path.Combine(fixture.OutDir, file));
        Assert.True(
            expected.AsSpan().SequenceEqual(actual),
            $"{file} differs from a fresh regeneration ({expected.Length} vs {actual.Length} bytes): run `{Trainer.RegenerateCommand}`");
    }

    [SharedFact]
    public void ExportedModelsGiveTheLearnersOwnProbabilitiesOnHeldOutPixels()
    {
        var corpus = WrightCorpus.Load(SharedData.Root);
        foreach (var shipped in fixture.Result.Models)
        {
            var program = shipped.Model.Features;
            var rows = new List<float>();
            var row = new float[program.FeatureCount];
            foreach (var scene in corpus.WithRole(SceneRole.Test))
            {
                var table = FeatureTable.Compute(program, scene);
                for (var i = 0; i < scene.PixelCount; i += 7)
                {
                    if (scene.Labels![i] <= 1 && table.IsFinite(i))
                    {
                        table.Row(i, row);
                        rows.AddRange(row);
                    }
                }
            }

            var features = rows.ToArray();
            var expected = shipped.Trained.LearnerProbabilities(features, program.FeatureCount);
            var worst = 0.0;
            for (var i = 0; i < expected.Length; i++)
            {
                var actual = shipped.Model.Ensemble.Predict(features.AsSpan(i * program.FeatureCount, program.FeatureCount));
                worst = Math.Max(worst, Math.Abs(actual - expected[i]));
            }

            output.WriteLine($"{shipped.Spec.Name}: {expected.Length} held-out pixels, worst |p_engine - p_mlnet| = {worst:E2}");

            // Leaves are scaled by the calibrator and summed in float32 (ML.NET sums in double):
            // a few float32 ulps of the margin, far below 1e-5 in probability.
            Assert.True(worst <= 1e-5, $"{shipped.Spec.Name}: worst difference {worst}");
        }
    }

    [SharedFact]
    public void TemporalModelGetsTheHeldOutOvercastAndClearDatesRight()
    {
        var temporal = fixture.Result.Models.Single(m => m.Spec.Name == "temporal");
        foreach (var d in temporal.Evaluation.HeldOutByDate)
        {
            var t = int.Parse(d.Date[1..], System.Globalization.CultureInfo.InvariantCulture);
            if (WrightCorpus.TestOvercast.Contains(t))
            {
                Assert.True(d.CloudFraction >= 0.99, $"overcast {d.Date}: only {d.CloudFraction:P2} called cloud");
            }
            else if (WrightCorpus.TestClear.Contains(t))
            {
                Assert.True(d.CloudFraction <= 0.01, $"clear {d.Date}: {d.CloudFraction:P2} called cloud");
            }
        }

        Assert.True(temporal.Evaluation.HeldOut.BalancedAccuracy >= 0.98, $"balanced accuracy {temporal.Evaluation.HeldOut.BalancedAccuracy}");
    }

    [SharedFact]
    public void FastIsOneTreeAtMostElevenDeep()
    {
        var fast = fixture.Result.Models.Single(m => m.Spec.Name == "fast");
        Assert.Single(fast.Trained.Ensemble.Trees);
        Assert.InRange(fast.Trained.Ensemble.MaxDepth, 1, 11);
        Assert.InRange(fast.Model.Ensemble.MaxDepth, 1, 11);
    }

    [SharedFact]
    public void EveryModelFileRecordsItsProvenanceAndMetrics()
    {
        _ = fixture.Result;
        foreach (var name in new[] { "spectral", "fast", "temporal" })
        {
            var path = Path.Combine(fixture.OutDir, name + ModelFile.Extension);
            var model = ModelFile.Load(path);
            Assert.Equal(name, model.Name);
            Assert.Equal("cloud", model.Target);
            Assert.Equal(0.5f, model.Threshold);
            Assert.Equal(name == "temporal" ? 0 : 3, model.Opening);
            Assert.Equal(name == "temporal", model.NeedsReference);
            var meta = Assert.IsType<JsonElement>(model.Metadata);
            var training = meta.GetProperty("training");
            Assert.NotEmpty(training.GetProperty("train_dates").EnumerateArray());
            Assert.NotEmpty(training.GetProperty("test_dates").EnumerateArray());
            var trainDates = training.GetProperty("train_dates").EnumerateArray().Select(x => x.GetString()).ToHashSet();
            Assert.DoesNotContain(training.GetProperty("test_dates").EnumerateArray(), d => trainDates.Contains(d.GetString()));
            Assert.True(training.GetProperty("label_counts").GetProperty("cloud").GetInt64() > 0);
            Assert.Contains("FastTree", meta.GetProperty("learner").GetProperty("trainer").GetString(), StringComparison.Ordinal);
            var heldOut = meta.GetProperty("metrics").GetProperty("held_out");
            foreach (var metric in new[] { "accuracy", "cloud_precision", "cloud_recall", "balanced_accuracy" })
            {
                Assert.InRange(heldOut.GetProperty(metric).GetDouble(), 0.9, 1.0);
            }

            Assert.InRange(meta.GetProperty("metrics").GetProperty("other_place").GetProperty("false_positive_rate").GetDouble(), 0, 0.05);
            Assert.Equal(3, meta.GetProperty("metrics").GetProperty("agreement_with_published").GetProperty("datasets").GetArrayLength());
        }

        var report = File.ReadAllText(Path.Combine(fixture.OutDir, Trainer.ReportFile));
        Assert.Contains(Trainer.RegenerateCommand, report, StringComparison.Ordinal);
        Assert.Contains("t31tdh", report, StringComparison.OrdinalIgnoreCase);
    }
}
