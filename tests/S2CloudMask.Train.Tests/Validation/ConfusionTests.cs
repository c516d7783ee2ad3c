using S2CloudMask.Train.Validation;

namespace S2CloudMask.Train.Tests.Validation;

public sealed class ConfusionTests
{
    [Fact]
    public void CountsIgnoreUnlabelledPixelsAndReportNodataApart()
    {
        byte[] mask = [1, 1, 0, 0, 255, 1, 0];
        byte[] labels = [1, 0, 0, 1, 1, 255, 2];
        var c = Confusion.Of(mask, labels);
        Assert.Equal(new Confusion(1, 1, 1, 1, 1), c);
        Assert.Equal(0.5, c.Accuracy);
        Assert.Equal(0.5, c.CloudPrecision);
        Assert.Equal(0.5, c.CloudRecall);
        Assert.Equal(0.5, c.BalancedAccuracy);
        Assert.Equal(0.5, c.FalsePositiveRate);
    }

    [Fact]
    public void BalancedAccuracyWithOneClassIsThatClassRate()
    {
        var allClear = Confusion.Of([0, 0, 0, 1], [0, 0, 0, 0]);
        Assert.Equal(0.75, allClear.BalancedAccuracy);
        Assert.Equal(0.25, allClear.FalsePositiveRate);
        Assert.True(double.IsNaN(allClear.CloudRecall));
    }
}
