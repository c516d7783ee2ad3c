using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using S2CloudMask.Train.Export;

namespace S2CloudMask.Train.Learning;

/// <summary>
/// Trains gradient-boosted trees with ML.NET's FastTree (binary, Platt-calibrated), seeded and
/// on one thread so the same data gives the same trees, and exports them to the engine's own
/// ensemble form.
/// </summary>
public static class FastTreeLearner
{
    public static TrainedModel Train(ModelSpec spec, TrainingSet data)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Labels.All(l => l) || !data.Labels.Any(l => l))
        {
            throw new InvalidOperationException($"model '{spec.Name}': training needs both clear and cloud pixels");
        }

        var ml = new MLContext(seed: spec.Seed);
        var view = ToDataView(ml, data.Rows, data.Labels, data.FeatureCount);

        // FastTree grows trees best-first by leaf count and has no depth limit: when one is
        // asked for, the largest leaf count whose tree fits is used (a tree of L leaves is at
        // most L - 1 deep, so the search always ends).
        var leaves = spec.Leaves;
        while (true)
        {
            var options = Options(spec, leaves);
            var transformer = ml.BinaryClassification.Trainers.FastTree(options).Fit(view);
            var ensemble = TreeExport.FromFastTree(transformer.Model);
            if (spec.MaxDepth <= 0 || ensemble.MaxDepth <= spec.MaxDepth || leaves <= 2)
            {
                return new TrainedModel(spec, ml, transformer, ensemble, leaves, Describe(options));
            }

            leaves--;
        }
    }

    public static FastTreeBinaryTrainer.Options Options(ModelSpec spec, int leaves) => new()
    {
        LabelColumnName = "Label",
        FeatureColumnName = "Features",
        NumberOfTrees = spec.Trees,
        NumberOfLeaves = leaves,
        MinimumExampleCountPerLeaf = spec.MinExamplesPerLeaf,
        LearningRate = spec.LearningRate,
        Seed = spec.Seed,
        NumberOfThreads = 1,
        FeatureFraction = 1,
        DiskTranspose = false,
    };

    /// <summary>The settings that shape the trees, for the model file's provenance.</summary>
    public static SortedDictionary<string, object> Describe(FastTreeBinaryTrainer.Options o) => new(StringComparer.Ordinal)
    {
        ["trainer"] = "Microsoft.ML.Trainers.FastTree.FastTreeBinaryTrainer",
        ["ml_net_version"] = typeof(FastTreeBinaryTrainer).Assembly.GetName().Version?.ToString(3) ?? "?",
        ["number_of_trees"] = o.NumberOfTrees,
        ["number_of_leaves"] = o.NumberOfLeaves,
        ["minimum_example_count_per_leaf"] = o.MinimumExampleCountPerLeaf,
        ["learning_rate"] = o.LearningRate,
        ["maximum_bin_count_per_feature"] = o.MaximumBinCountPerFeature,
        ["feature_fraction"] = o.FeatureFraction,
        ["seed"] = o.Seed,
        ["number_of_threads"] = o.NumberOfThreads ?? 0,
        ["calibrator"] = "Platt (folded into leaves and base_margin)",
    };

    public static IDataView ToDataView(MLContext ml, float[] rows, bool[] labels, int featureCount)
    {
        ArgumentNullException.ThrowIfNull(ml);
        var schema = SchemaDefinition.Create(typeof(LabelledRow));
        schema[nameof(LabelledRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, featureCount);
        var items = new LabelledRow[labels.Length];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = new LabelledRow { Label = labels[i], Features = rows.AsSpan(i * featureCount, featureCount).ToArray() };
        }

        return ml.Data.LoadFromEnumerable(items, schema);
    }

    /// <summary>One training row as ML.NET reads it.</summary>
    public sealed class LabelledRow
    {
        public bool Label { get; set; }

        public float[] Features { get; set; } = [];
    }

    /// <summary>One scored row as ML.NET writes it.</summary>
    public sealed class ScoredRow
    {
        public float Score { get; set; }

        public float Probability { get; set; }
    }
}

/// <summary>A trained ML.NET model and its export to the engine's form.</summary>
public sealed class TrainedModel(
    ModelSpec spec,
    MLContext ml,
    BinaryPredictionTransformer<CalibratedModelParametersBase<FastTreeBinaryModelParameters, PlattCalibrator>> transformer,
    NativeEnsemble ensemble,
    int leavesUsed,
    SortedDictionary<string, object> settings)
{
    public ModelSpec Spec { get; } = spec;

    public NativeEnsemble Ensemble { get; } = ensemble;

    public int LeavesUsed { get; } = leavesUsed;

    public SortedDictionary<string, object> Settings { get; } = settings;

    public double CalibratorSlope => transformer.Model.Calibrator.Slope;

    public double CalibratorOffset => transformer.Model.Calibrator.Offset;

    /// <summary>ML.NET's own calibrated probabilities for pixel-major feature rows.</summary>
    public float[] LearnerProbabilities(float[] rows, int featureCount)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var n = rows.Length / featureCount;
        var view = FastTreeLearner.ToDataView(ml, rows, new bool[n], featureCount);
        return ml.Data.CreateEnumerable<FastTreeLearner.ScoredRow>(transformer.Transform(view), reuseRowObject: false)
            .Select(r => r.Probability)
            .ToArray();
    }
}
