using System.Text;
using S2CloudMask.Engine.Models;
using S2CloudMask.Train.Export;
using S2CloudMask.Train.Learning;

namespace S2CloudMask.Train.Tests.Learning;

/// <summary>Training and export on synthetic data: needs nothing from ../shared.</summary>
public sealed class FastTreeLearnerTests
{
    private static readonly string[] Features = ["B02", "B03 - B04", "B08 / B04"];

    private static ModelSpec Spec(int trees, int leaves, int maxDepth = 0) => new()
    {
        Name = "synthetic",
        Description = "test",
        Features = Features,
        Trees = trees,
        Leaves = leaves,
        MaxDepth = maxDepth,
        MinExamplesPerLeaf = 5,
    };

    /// <summary>A noisy, non-axis-aligned boundary, so trees need many splits.</summary>
    private static TrainingSet Synthetic(int n, int seed)
    {
        var rows = new float[n * 3];
        var labels = new bool[n];
        for (var i = 0; i < n; i++)
        {
            float U(int k) => (float)(TrainingSet.Hash(seed, k, i) % 1_000_000) / 1_000_000f;
            float a = U(1), b = U(2) - 0.5f, c = 2 * U(3);
            rows[(i * 3) + 0] = a;
            rows[(i * 3) + 1] = b;
            rows[(i * 3) + 2] = c;
            labels[i] = a + (0.7f * b * c) + (0.2f * U(4)) > 0.65f;
        }

        return new TrainingSet(rows, labels, 3, []);
    }

    private static CloudModel Load(TrainedModel trained, int opening = 0)
    {
        var json = JsonText.Write(ModelDocument.Build("synthetic", Features, trained.Ensemble, opening, 0.5f, new JsonObject(), null));
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json));
        return ModelFile.Parse(stream, "test");
    }

    [Fact]
    public void ExportedEnsembleGivesTheLearnersProbabilitiesOnHeldOutRows()
    {
        var trained = FastTreeLearner.Train(Spec(30, 12), Synthetic(3000, 1));
        var heldOut = Synthetic(1000, 2);
        var expected = trained.LearnerProbabilities(heldOut.Rows, 3);
        var model = Load(trained);
        Assert.Equal("trees", model.Ensemble.Kind);
        Assert.Equal(30, model.Ensemble.TreeCount);
        var worst = 0.0;
        for (var i = 0; i < heldOut.Count; i++)
        {
            worst = Math.Max(worst, Math.Abs(model.Ensemble.Predict(heldOut.Row(i)) - expected[i]));
        }

        Assert.True(worst <= 1e-5, $"worst |p_engine - p_mlnet| = {worst}");

        // The model has learned something, so the comparison is not between constants.
        var correct = Enumerable.Range(0, heldOut.Count).Count(i => expected[i] > 0.5f == heldOut.Labels[i]);
        Assert.True(correct > 900, $"{correct} / 1000 correct");
    }

    [Fact]
    public void CalibratorIsFoldedIntoLeavesAndBaseMargin()
    {
        var trained = FastTreeLearner.Train(Spec(5, 4), Synthetic(1000, 3));

        // p = 1 / (1 + exp(slope * score + offset)) = sigmoid(-(slope * score + offset)).
        Assert.True(trained.CalibratorSlope < 0, $"slope {trained.CalibratorSlope}");
        Assert.Equal((float)-trained.CalibratorOffset, trained.Ensemble.BaseMargin, 6);
        Assert.Equal("sum-sigmoid", trained.Ensemble.Aggregation);
    }

    [Fact]
    public void DepthLimitIsMetByFewerLeaves()
    {
        var trained = FastTreeLearner.Train(Spec(1, 40, maxDepth: 4), Synthetic(4000, 4));
        Assert.Single(trained.Ensemble.Trees);
        Assert.InRange(trained.Ensemble.MaxDepth, 1, 4);
        Assert.InRange(Load(trained).Ensemble.MaxDepth, 1, 4);
        Assert.True(trained.LeavesUsed < 40);
    }

    [Fact]
    public void SameDataGivesTheSameBytes()
    {
        var data = Synthetic(2000, 5);
        string Json() => JsonText.Write(ModelDocument.Ensemble(FastTreeLearner.Train(Spec(10, 8), data).Ensemble));
        Assert.Equal(Json(), Json());
    }
}
