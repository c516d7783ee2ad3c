using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Tests.Support;

namespace S2CloudMask.Engine.Tests.Gdal;

/// <summary>The shared 10-band COG of tile 31TDH (read-only; see ../shared/README.md).</summary>
public class Stack10Tests
{
    private static readonly int[] AllBands = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

    private static string Stack10 => SharedData.Data("t31tdh-20150726/stack10.tif");

    [SharedFact]
    public void OpensAsTenUInt16BandsOf300x300InUtm31N()
    {
        using var ds = GdalDataset.Open(Stack10);

        Assert.Equal("GTiff", ds.DriverName);
        Assert.Equal((300, 300, 10), (ds.Width, ds.Height, ds.BandCount));
        Assert.All(AllBands, b => Assert.Equal(GdalDataType.UInt16, ds.DataType(b)));
        Assert.Equal(RasterSamples.UtmGeoTransform, ds.GetGeoTransform());
        Assert.Equal(1, ds.OverviewCount(1));
        using var srs = ds.GetSpatialReference();
        Assert.NotNull(srs);
        Assert.Equal("EPSG:32631", srs.AuthorityId);
    }

    [SharedFact]
    public void WindowReadEqualsTheSameRegionOfAFullRead()
    {
        using var ds = GdalDataset.Open(Stack10);
        var full = new ushort[10 * 300 * 300];
        var window = new ushort[10 * 100 * 100];
        var oneBand = new ushort[100 * 100];

        ds.ReadBands(AllBands, 0, 0, 300, 300, full.AsSpan());
        ds.ReadBands(AllBands, 120, 40, 100, 100, window.AsSpan());
        ds.Read(7, 120, 40, 100, 100, oneBand.AsSpan());

        for (var b = 0; b < 10; b++)
        {
            for (var y = 0; y < 100; y++)
            {
                var expected = full.AsSpan((b * 300 * 300) + ((40 + y) * 300) + 120, 100);
                var actual = window.AsSpan((b * 100 * 100) + (y * 100), 100);
                Assert.True(expected.SequenceEqual(actual), $"band {b + 1} row {y}");
            }
        }

        Assert.Equal(window.AsSpan(6 * 100 * 100, 100 * 100).ToArray(), oneBand);
        Assert.Contains(full, v => v != 0);
    }

    [SharedFact]
    public void HalfResolutionReadComesFromTheOverview()
    {
        using var ds = GdalDataset.Open(Stack10);
        var nearest = new ushort[150 * 150];
        var average = new ushort[150 * 150];
        var full = new ushort[300 * 300];
        ds.Read(1, 0, 0, 300, 300, full.AsSpan());

        ds.Read(1, 0, 0, 300, 300, nearest.AsSpan(), 150, 150, Resampling.Nearest);
        ds.Read(1, 0, 0, 300, 300, average.AsSpan(), 150, 150, Resampling.Average);

        // A 150x150 overview matches the request exactly, so GDAL copies it whatever the
        // resampling; computed from full resolution the two would differ.
        Assert.Equal(nearest, average);
        using var mem = GdalDataset.CreateInMemory(300, 300, 1, GdalDataType.UInt16);
        mem.Write(1, 0, 0, 300, 300, full.AsSpan());
        var memNearest = new ushort[150 * 150];
        var memAverage = new ushort[150 * 150];
        mem.Read(1, 0, 0, 300, 300, memNearest.AsSpan(), 150, 150, Resampling.Nearest);
        mem.Read(1, 0, 0, 300, 300, memAverage.AsSpan(), 150, 150, Resampling.Average);
        Assert.NotEqual(memNearest, memAverage);
    }
}
