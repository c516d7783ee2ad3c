using System.Text;
using S2CloudMask.Engine.Features;
using S2CloudMask.Engine.Models;
using S2CloudMask.Train.Data;
using S2CloudMask.Train.Export;
using S2CloudMask.Train.Learning;
using S2CloudMask.Train.Validation;

namespace S2CloudMask.Train;

/// <summary>One shipped model: how it was trained, the file written and how it does.</summary>
public sealed record ShippedModel(
    ModelSpec Spec,
    TrainedModel Trained,
    TrainingSet Data,
    CloudModel Model,
    ModelEvaluation Evaluation,
    string ComparedWith,
    IReadOnlyList<Agreement> Agreement,
    string Json);

/// <summary>Everything one regeneration produced.</summary>
public sealed record Regeneration(IReadOnlyList<ShippedModel> Models, IReadOnlyList<ModelEvaluation> Published, string Report);

/// <summary>
/// Trains every shipped model from <c>../shared</c>, validates it on held-out dates and on
/// another place, and writes the model files and REPORT.md.
/// </summary>
public static class Trainer
{
    public const string RegenerateCommand = "dotnet run -c Release --project src/Train -- --shared ../shared --out src/Api/Models/BuiltIn";

    public const string ReportFile = "REPORT.md";

    public static Regeneration Regenerate(string sharedRoot, string outDir, TextWriter log, IReadOnlyList<ModelSpec>? specs = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        specs ??= ModelSpecs.All;
        var corpus = WrightCorpus.Load(sharedRoot);
        log.WriteLine($"corpus: {corpus.Scenes.Count} scenes; geomedian {corpus.Geomedian.Height}x{corpus.Geomedian.Width}, {corpus.Geomedian.TotalIterations} iterations");

        var published = new Dictionary<string, ModelEvaluation>(StringComparer.Ordinal);
        foreach (var name in new[] { "spectral", "fast" })
        {
            var path = Path.Combine(sharedRoot, "models", name + ModelFile.Extension);
            published[name] = Validator.Evaluate(ModelFile.Load(path), corpus);
        }

        Directory.CreateDirectory(outDir);
        var shipped = new List<ShippedModel>();
        foreach (var spec in specs)
        {
            var result = TrainOne(spec, corpus, published, log);
            File.WriteAllText(Path.Combine(outDir, spec.Name + ModelFile.Extension), result.Json, new UTF8Encoding(false));
            shipped.Add(result);
        }

        var report = ReportWriter.Write(shipped, [.. published.Values], corpus);
        File.WriteAllText(Path.Combine(outDir, ReportFile), report, new UTF8Encoding(false));
        return new Regeneration(shipped, [.. published.Values], report);
    }

    public static ShippedModel TrainOne(ModelSpec spec, WrightCorpus corpus, IReadOnlyDictionary<string, ModelEvaluation> published, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(published);
        ArgumentNullException.ThrowIfNull(log);
        var program = FeatureProgram.Compile(spec.Features);
        var trainScenes = TrainingScenes(spec, corpus).ToList();
        var data = TrainingSet.Sample(
            program,
            trainScenes,
            s => s.PixelCount > spec.LargeScenePixels ? spec.PerClassPerLargeScene : spec.PerClassPerScene,
            spec.Seed);
        var trained = FastTreeLearner.Train(spec, data);
        log.WriteLine($"{spec.Name}: {data.Count} pixels ({data.Labels.Count(l => l)} cloud), {trained.Ensemble.Trees.Count} trees, {trained.Ensemble.LeafCount} leaves, depth {trained.Ensemble.MaxDepth}");

        // Validate the exported file itself, as the service will load it.
        var source = Source(spec);
        var bare = JsonText.Write(ModelDocument.Build(spec.Name, spec.Features, trained.Ensemble, spec.Opening, spec.Threshold, source, null));
        var model = Parse(bare, spec.Name);
        var evaluation = Validator.Evaluate(model, corpus);
        var comparedWith = published.ContainsKey(spec.Name) ? spec.Name : "spectral";
        var agreement = Validator.AgreementWith(evaluation, published[comparedWith], corpus);
        var metadata = Metadata(spec, trained, data, trainScenes, corpus, evaluation, comparedWith, agreement);
        var json = JsonText.Write(ModelDocument.Build(spec.Name, spec.Features, trained.Ensemble, spec.Opening, spec.Threshold, source, metadata));
        log.WriteLine($"{spec.Name}: held-out accuracy {evaluation.HeldOut.Accuracy:F4}, balanced {evaluation.HeldOut.BalancedAccuracy:F4}, T31TDH false positives {evaluation.OtherPlace.FalsePositiveRate:F4}");
        return new ShippedModel(spec, trained, data, Parse(json, spec.Name), evaluation, comparedWith, agreement, json);
    }

    /// <summary>
    /// The labelled training scenes: spectral models learn from every training date and the
    /// clear Wright scene; a spectral-temporal model only from scenes with a real geomedian
    /// (the clear scene's only reference would be itself).
    /// </summary>
    public static IEnumerable<Scene> TrainingScenes(ModelSpec spec, WrightCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(corpus);
        return corpus.WithRole(SceneRole.Train).Where(s => s.Labels is not null && (!spec.IsTemporal || s.ReferenceIsGeomedian));
    }

    private static CloudModel Parse(string json, string name)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json));
        return ModelFile.Parse(stream, "trained:" + name);
    }

    private static JsonObject Source(ModelSpec spec) => new()
    {
        { "repository", "S2CloudMask (trained by src/Train)" },
        { "note", spec.Description },
        { "feature_expressions_from", "daleroberts/s2cloudmask spectral model (Apache-2.0); the trees are trained here" },
    };

    private static JsonObject Metadata(
        ModelSpec spec,
        TrainedModel trained,
        TrainingSet data,
        IReadOnlyList<Scene> trainScenes,
        WrightCorpus corpus,
        ModelEvaluation evaluation,
        string comparedWith,
        IReadOnlyList<Agreement> agreement)
    {
        long clear = 0, cloud = 0, shadow = 0, ignored = 0;
        foreach (var s in trainScenes)
        {
            var c = s.LabelCounts();
            clear += c.Clear;
            cloud += c.Cloud;
            shadow += c.Shadow;
            ignored += c.Ignored;
        }

        var settings = new JsonObject();
        foreach (var kv in trained.Settings)
        {
            settings.Add(kv.Key, kv.Value);
        }

        settings.Add("leaves_requested", spec.Leaves);
        if (spec.MaxDepth > 0)
        {
            settings.Add("max_depth", spec.MaxDepth);
        }

        settings.Add("calibrator_slope", trained.CalibratorSlope);
        settings.Add("calibrator_offset", trained.CalibratorOffset);

        var trainDates = corpus.Scenes.Where(s => s.ReferenceIsGeomedian && s.Role == SceneRole.Train).Select(s => s.Date).ToArray();
        return new JsonObject
        {
            { "trained_by", "S2CloudMask.Train" },
            { "regenerate", RegenerateCommand },
            { "description", spec.Description },
            {
                "training", new JsonObject
                {
                    { "scenes", trainScenes.Select(s => s.Name).ToArray() },
                    { "stack", WrightCorpus.StackFile + " (100 x 100, 30 dates, DN / 10000) with " + WrightCorpus.StackLabelsFile },
                    { "train_dates", trainDates },
                    { "test_dates", WrightCorpus.TestDates.Select(t => $"t{t:D2}").ToArray() },
                    { "unlabelled_dates", WrightCorpus.Unlabelled.Select(t => $"t{t:D2}").ToArray() },
                    { "split", "by date: no date is in both training and test; clear-wright-20160101 is stack date t06 and is used for training only" },
                    { "reference", spec.IsTemporal ? "geomedian of the 30 stack dates, computed by the engine (Vardi-Zhang, eps 1e-4)" : "none" },
                    {
                        "label_counts", new JsonObject
                        {
                            { "clear", clear }, { "cloud", cloud }, { "shadow", shadow }, { "ignored", ignored },
                        }
                    },
                    {
                        "sampling", $"per scene and class at most {spec.PerClassPerScene} labelled pixels ({spec.PerClassPerLargeScene} for scenes over {spec.LargeScenePixels} pixels), chosen by a SplitMix64 hash of (seed {spec.Seed}, scene, pixel); pixels with a non-finite feature are left out"
                    },
                    { "pixels_used", data.Count },
                    { "cloud_pixels_used", data.Labels.LongCount(l => l) },
                    {
                        "per_scene", data.Scenes.Select(s => new JsonObject
                        {
                            { "scene", s.Scene }, { "clear_available", s.ClearAvailable }, { "cloud_available", s.CloudAvailable },
                            { "clear_used", s.ClearUsed }, { "cloud_used", s.CloudUsed },
                        }).ToList()
                    },
                }
            },
            { "learner", settings },
            {
                "ensemble", new JsonObject
                {
                    { "trees", trained.Ensemble.Trees.Count }, { "leaves", trained.Ensemble.LeafCount }, { "max_depth", trained.Ensemble.MaxDepth },
                }
            },
            { "metrics", Metrics(evaluation, comparedWith, agreement) },
        };
    }

    private static JsonObject Metrics(ModelEvaluation e, string comparedWith, IReadOnlyList<Agreement> agreement) => new()
    {
        { "held_out", ConfusionJson(e.HeldOut) },
        {
            "held_out_by_date", e.HeldOutByDate.Select(d => new JsonObject
            {
                { "date", d.Date }, { "labelled_clear", d.Confusion.LabelledClear }, { "labelled_cloud", d.Confusion.LabelledCloud },
                { "accuracy", Round(d.Confusion.Accuracy) }, { "cloud_fraction", Round(d.CloudFraction) },
            }).ToList()
        },
        {
            "other_place", new JsonObject
            {
                { "scene", "t31tdh-20150726 (stack10.tif, uint16 DN x 1e-4; all labelled clear)" },
                { "false_positive_rate", Round(e.OtherPlace.FalsePositiveRate) },
                { "pixels", e.OtherPlace.Total },
            }
        },
        { "clear_wright_false_positive_rate", Round(e.ClearWright.FalsePositiveRate) },
        {
            "agreement_with_published", new JsonObject
            {
                { "published_model", comparedWith },
                { "measure", "fraction of pixels valid in both masks where the masks are equal" },
                { "datasets", agreement.Select(a => new JsonObject { { "data", a.Dataset }, { "pixels", a.Pixels }, { "agreement", Round(a.Fraction) } }).ToList() },
            }
        },
        {
            "unlabelled_dates_cloud_fraction", e.Unlabelled.Select(d => new JsonObject { { "date", d.Date }, { "cloud_fraction", Round(d.CloudFraction) } }).ToList()
        },
    };

    private static JsonObject ConfusionJson(Confusion c) => new()
    {
        { "accuracy", Round(c.Accuracy) },
        { "cloud_precision", Round(c.CloudPrecision) },
        { "cloud_recall", Round(c.CloudRecall) },
        { "balanced_accuracy", Round(c.BalancedAccuracy) },
        { "pixels", c.Total },
        { "labelled_clear", c.LabelledClear },
        { "labelled_cloud", c.LabelledCloud },
        { "true_positive", c.TruePositive },
        { "false_positive", c.FalsePositive },
        { "true_negative", c.TrueNegative },
        { "false_negative", c.FalseNegative },
        { "unscored", c.Unscored },
    };

    /// <summary>Metrics to 6 decimals (null when undefined), so the files read well and stay stable.</summary>
    public static object? Round(double v) => double.IsFinite(v) ? Math.Round(v, 6) : null;
}
