using System.Text.Json;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>Tiny hand-made trees whose answers can be worked out by hand.</summary>
[Collection(KernelSwitches.Name)]
public sealed class EnsembleReaderTests
{
    // x0 <= 0.5 ? (x1 <= 2 ? leaf [3,1] : leaf [0,4]) : leaf [5,0]
    private const string SklearnTree = """
        {"kind":"sklearn-decision-tree","classes":[false,true],
         "children_left":[1,2,-1,-1,-1],"children_right":[4,3,-1,-1,-1],
         "feature":[0,1,-2,-2,-2],"threshold":[0.5,2.0,-2.0,-2.0,-2.0],
         "value":[[8,5],[3,5],[3,1],[0,4],[5,0]]}
        """;

    [Theory]
    [InlineData(0.5f, 2f, 0.25f)] // both splits on the boundary go left (<=)
    [InlineData(0.4f, 2.5f, 1f)]
    [InlineData(0.6f, 0f, 0f)]
    public void SklearnTreeGoesLeftOnLessOrEqual(float x0, float x1, float expected)
    {
        var ens = EnsembleReader.Read(Parse(SklearnTree), 2);
        Assert.Equal(expected, ens.Predict([x0, x1]));
        Assert.Equal(2, ens.MaxDepth);
    }

    [Fact]
    public void SklearnDoubleThresholdComparesAsDouble()
    {
        // 0.1 is not a float: the float nearest 0.1 (0.100000001) is above the double 0.1,
        // so scikit-learn's (double)x <= 0.1 sends it right.
        var tree = SklearnTree.Replace("[0.5,2.0", "[0.1,2.0", StringComparison.Ordinal);
        var ens = EnsembleReader.Read(Parse(tree), 2);
        Assert.Equal(0f, ens.Predict([0.1f, 0f]));
        Assert.Equal(0.25f, ens.Predict([MathF.BitDecrement(0.1f), 0f]));
    }

    [Fact]
    public void SklearnMissingValueGoesRight()
    {
        var ens = EnsembleReader.Read(Parse(SklearnTree), 2);
        Assert.Equal(0f, ens.Predict([float.NaN, 0f]));
    }

    // Two trees. Tree 0: x0 < 1 ? 0.5 : -0.5 (missing -> right). Tree 1: x1 < 0 ? -1 : 2 (missing -> left).
    private static string XgbModel(string objective = "binary:logistic", string baseScore = "5E-1") => """
        {"learner":{"learner_model_param":{"base_score":"@BASE","num_class":"0","num_feature":"2","num_target":"1"},
         "objective":{"name":"@OBJ"},
         "gradient_booster":{"name":"gbtree","model":{"trees":[
           {"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[0,0,0],
            "split_conditions":[1.0,0.5,-0.5],"default_left":[0,0,0],"split_type":[0,0,0]},
           {"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[1,0,0],
            "split_conditions":[0.0,-1.0,2.0],"default_left":[1,0,0],"split_type":[0,0,0]}]}}}}
        """.Replace("@BASE", baseScore, StringComparison.Ordinal).Replace("@OBJ", objective, StringComparison.Ordinal);

    private static JsonElement Xgb(string objective = "binary:logistic", string baseScore = "5E-1") =>
        Parse("""{"kind":"xgboost-json","model":""" + XgbModel(objective, baseScore) + "}");

    [Theory]
    [InlineData(0.9f, -1f, 0.5f - 1f)]
    [InlineData(1f, -1f, -0.5f - 1f)] // x0 == 1 is not < 1: right
    [InlineData(0.9f, 0f, 0.5f + 2f)] // x1 == 0 is not < 0: right
    [InlineData(float.NaN, float.NaN, -0.5f - 1f)] // missing: tree 0 right, tree 1 left
    public void XgboostGoesLeftOnStrictlyLessAndAppliesSigmoid(float x0, float x1, float margin)
    {
        var ens = EnsembleReader.Read(Xgb(), 2);
        Assert.Equal(Aggregation.SumSigmoid, ens.Aggregation);
        Assert.Equal(Logistic.Of(margin), ens.Predict([x0, x1]));
    }

    [Fact]
    public void XgboostBaseScoreBecomesLogitMargin()
    {
        var ens = EnsembleReader.Read(Xgb(baseScore: "[8E-1]"), 2);
        Assert.Equal((float)Math.Log(0.8 / 0.2), ens.BaseMargin, 6);
        var raw = EnsembleReader.Read(Xgb("reg:squarederror", "2.5E0"), 2);
        Assert.Equal(Aggregation.Sum, raw.Aggregation);
        Assert.Equal(2.5f + 0.5f + 2f, raw.Predict([0f, 1f]));
    }

    [Fact]
    public void XgboostMulticlassIsRejected()
    {
        var model = XgbModel().Replace("\"num_class\":\"0\"", "\"num_class\":\"3\"", StringComparison.Ordinal);
        var e = Assert.Throws<ModelFormatException>(() => EnsembleReader.Read(Parse("""{"kind":"xgboost-json","model":""" + model + "}"), 2));
        Assert.Contains("num_class=3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BlockPredictionEqualsSinglePredictions()
    {
        var ens = EnsembleReader.Read(Xgb(), 2);
        var rng = new Random(7);
        var features = Enumerable.Range(0, 2 * 64).Select(_ => (float)((rng.NextDouble() * 4) - 2)).ToArray();
        var block = new float[64];
        ens.PredictBlock(features, 64, block);
        for (var i = 0; i < 64; i++)
        {
            Assert.Equal(ens.Predict(features.AsSpan(2 * i, 2)), block[i]);
        }
    }

    [Theory]
    [InlineData("xgb")]
    [InlineData("sklearn")]
    public void LevelSteppingOnPlanesEqualsNodeByNodeBitForBit(string which)
    {
        var ens = which == "xgb" ? EnsembleReader.Read(Xgb(), 2) : EnsembleReader.Read(Parse(SklearnTree), 2);
        var rng = new Random(11);
        const int n = 77, stride = 80;
        var planes = new float[2 * stride];
        var pixelMajor = new float[2 * n];
        for (var i = 0; i < n; i++)
        {
            for (var f = 0; f < 2; f++)
            {
                // Values on and around the thresholds, where the split rules differ.
                var v = (float)Math.Round((rng.NextDouble() * 5) - 2, 1);
                planes[(f * stride) + i] = v;
                pixelMajor[(i * 2) + f] = v;
            }
        }

        var level = new float[n];
        var node = new float[n];
        ens.PredictPlanes(planes, stride, n, level);
        ens.PredictBlock(pixelMajor, n, node);
        Assert.Equal(node, level);

        // Every kernel (the scalar twin, AVX2 gathers, AVX-512 tables) gives the same values.
        KernelSwitches.ForEachKernel(() =>
        {
            Array.Fill(level, -1f);
            ens.PredictPlanes(planes, stride, n, level);
            Assert.Equal(node, level);
        });

        // A NaN anywhere falls back to the missing-value directions.
        planes[3] = float.NaN;
        pixelMajor[6] = float.NaN;
        ens.PredictPlanes(planes, stride, n, level);
        ens.PredictBlock(pixelMajor, n, node);
        Assert.Equal(node, level);
    }

    [Fact]
    public void NativeFormatReadsTheTrainerOutput()
    {
        var json = """
            {"kind":"trees","aggregation":"sum-sigmoid","base_margin":0.25,
             "trees":[{"feature":[0],"threshold":[1.0],"left":[-1],"right":[-2],"default_left":[true],"leaf_value":[1.0,-1.0]},
                      {"feature":[],"threshold":[],"left":[],"right":[],"leaf_value":[0.5]}]}
            """;
        var ens = EnsembleReader.Read(Parse(json), 1);
        Assert.Equal(Logistic.Of(0.25f + 1f + 0.5f), ens.Predict([1f]));
        Assert.Equal(Logistic.Of(0.25f - 1f + 0.5f), ens.Predict([1.5f]));
        Assert.Equal(Logistic.Of(0.25f + 1f + 0.5f), ens.Predict([float.NaN]));
    }

    [Fact]
    public void UnknownKindAndBadFeatureIndexAreModelErrors()
    {
        Assert.Throws<ModelFormatException>(() => EnsembleReader.Read(Parse("""{"kind":"lightgbm"}"""), 2));
        Assert.Throws<ModelFormatException>(() => EnsembleReader.Read(Parse(SklearnTree), 1));
    }

    [Fact]
    public void ThresholdConversionsAreExact()
    {
        Assert.Equal(MathF.BitDecrement(0.1f), TreeEnsemble.FloorToFloat(0.1));
        Assert.Equal(0.5f, TreeEnsemble.FloorToFloat(0.5));
        Assert.True(0.5f <= TreeEnsemble.LessThanAsLessOrEqual(0.50000006f));
        Assert.False(0.50000006f <= TreeEnsemble.LessThanAsLessOrEqual(0.50000006f));
    }

    /// <summary>
    /// XGBoost's split at -inf (x &lt; -inf never holds) becomes a NaN threshold, which sends
    /// every value right, -inf included; the block kernels must agree with the walk.
    /// </summary>
    [Fact]
    public void NaNThresholdSendsEveryValueRightInEveryKernel()
    {
        var t = TreeEnsemble.LessThanAsLessOrEqual(float.NegativeInfinity);
        Assert.True(float.IsNaN(t));

        // 20 stumps on that split (left leaf 1, right leaf 2), so the lane kernels take them too.
        const int trees = 20;
        var nodes = Enumerable.Range(0, trees).Select(k => new TreeNode(k % 2, t, ~(2 * k), ~((2 * k) + 1))).ToArray();
        var leaves = Enumerable.Range(0, 2 * trees).Select(k => k % 2 == 0 ? 1f : 2f).ToArray();
        var ens = new TreeEnsemble("xgboost-json", 2, nodes, [.. nodes.Select(_ => true)], leaves, [.. Enumerable.Range(0, trees)], Aggregation.Sum, 0f);
        const int n = 64;
        var planes = new float[2 * n];
        for (var i = 0; i < planes.Length; i++)
        {
            planes[i] = (i % 4) switch { 0 => float.NegativeInfinity, 1 => -1e30f, 2 => 0f, _ => float.PositiveInfinity };
        }

        Assert.Equal(2f * trees, ens.Predict([float.NegativeInfinity, float.NegativeInfinity]));
        var dest = new float[n];
        KernelSwitches.ForEachKernel(() =>
        {
            ens.PredictPlanes(planes, n, n, dest, nanFree: true);
            Assert.All(dest, v => Assert.Equal(2f * trees, v));
        });
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
