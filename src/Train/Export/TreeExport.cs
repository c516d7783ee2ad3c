using Microsoft.ML.Calibrators;
using Microsoft.ML.Trainers.FastTree;

namespace S2CloudMask.Train.Export;

/// <summary>
/// Turns a Platt-calibrated FastTree model into the engine's ensemble. ML.NET scores
/// <c>s = bias + sum_i w_i * leaf_i(x)</c> and calibrates with
/// <c>p = 1 / (1 + exp(slope * s + offset))</c> (<c>PlattCalibrator.PredictProbability</c>),
/// which is <c>sigmoid(-(slope * s + offset))</c>; so each leaf becomes
/// <c>-slope * w_i * leaf</c> and the base margin <c>-(slope * bias + offset)</c>, and the
/// engine's sum-sigmoid gives ML.NET's probability without ML.NET at run time.
/// FastTree's split rule (<c>x &lt;= threshold</c> goes to LteChild, leaves as <c>~index</c>) is
/// the engine's own, so nodes copy over as they are. A missing value fails <c>x &lt;= t</c>
/// and goes right in FastTree, so every default direction is right.
/// </summary>
public static class TreeExport
{
    public static NativeEnsemble FromFastTree(CalibratedModelParametersBase<FastTreeBinaryModelParameters, PlattCalibrator> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var ensemble = model.SubModel.TrainedTreeEnsemble;
        var slope = model.Calibrator.Slope;
        var offset = model.Calibrator.Offset;
        var trees = new List<NativeTree>();
        for (var t = 0; t < ensemble.Trees.Count; t++)
        {
            var tree = ensemble.Trees[t];
            var weight = ensemble.TreeWeights[t];
            if (tree.CategoricalSplitFlags.Any(c => c))
            {
                throw new InvalidOperationException("FastTree made a categorical split; only numeric features are expected");
            }

            var nodes = tree.NumberOfNodes;
            trees.Add(new NativeTree(
                [.. tree.NumericalSplitFeatureIndexes.Take(nodes)],
                [.. tree.NumericalSplitThresholds.Take(nodes)],
                [.. tree.LeftChild.Take(nodes)],
                [.. tree.RightChild.Take(nodes)],
                new bool[nodes],
                [.. tree.LeafValues.Select(v => Tidy((float)(-slope * weight * v)))]));
        }

        return new NativeEnsemble("sum-sigmoid", Tidy((float)-((slope * ensemble.Bias) + offset)), trees);
    }

    /// <summary>Writes -0 as 0 (same value, plainer file).</summary>
    private static float Tidy(float v) => v == 0 ? 0f : v;
}
