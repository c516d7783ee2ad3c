using GdalLib = S2CloudMask.Engine.Gdal.Gdal;
using S2CloudMask.Engine.Gdal;

namespace S2CloudMask.Engine.Tests.Gdal;

public class GdalRuntimeTests
{
    [Fact]
    public void VersionIsAGdal3ReleaseName()
    {
        var version = GdalLib.Version;

        Assert.False(string.IsNullOrEmpty(version));
        Assert.StartsWith("3.", version, StringComparison.Ordinal);
    }

    [Fact]
    public void InitializeIsIdempotentAcrossThreads()
    {
        Parallel.For(0, 16, _ => GdalLib.Initialize());

        Assert.StartsWith("3.", GdalLib.Version, StringComparison.Ordinal);
    }

    [Fact]
    public void BlockCacheSizeCanBeSetAndReadBack()
    {
        var before = GdalLib.CacheMaxBytes;
        try
        {
            GdalLib.CacheMaxBytes = 123L << 20;
            Assert.Equal(123L << 20, GdalLib.CacheMaxBytes);
            Assert.Throws<ArgumentOutOfRangeException>(() => GdalLib.CacheMaxBytes = 0);
        }
        finally
        {
            GdalLib.CacheMaxBytes = before;
        }

        Assert.Equal(before, GdalLib.CacheMaxBytes);
    }

    [Fact]
    public void GlobalConfigOptionIsVisibleAndCanBeUnset()
    {
        const string key = "S2CLOUDMASK_TEST_GLOBAL_OPTION";

        GdalLib.SetConfigOption(key, "yes");
        Assert.Equal("yes", GdalLib.GetConfigOption(key));

        GdalLib.SetConfigOption(key, null);
        Assert.Null(GdalLib.GetConfigOption(key));
    }

    [Fact]
    public void ThreadLocalConfigOptionStaysOnItsThreadAndScopeRestoresPreviousValue()
    {
        const string key = "S2CLOUDMASK_TEST_THREAD_OPTION";
        GdalLib.SetThreadLocalConfigOption(key, "outer");
        try
        {
            using (GdalLib.ThreadLocalConfigOption(key, "inner"))
            {
                Assert.Equal("inner", GdalLib.GetConfigOption(key));
                string? seenElsewhere = "unset";
                var other = new Thread(() => seenElsewhere = GdalLib.GetConfigOption(key));
                other.Start();
                other.Join();
                Assert.Null(seenElsewhere);
            }

            Assert.Equal("outer", GdalLib.GetConfigOption(key));
        }
        finally
        {
            GdalLib.SetThreadLocalConfigOption(key, null);
        }

        Assert.Null(GdalLib.GetConfigOption(key));
    }

    [Fact]
    public void MessageHandlerReceivesGdalsErrorText()
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<GdalMessage>();
        using var garbage = new VsiMemFile("plain text, not a raster"u8.ToArray(), ".tif");
        GdalLib.MessageHandler = m => seen.Enqueue(m);
        try
        {
            Assert.Throws<GdalException>(() => GdalDataset.Open(garbage.Path));
        }
        finally
        {
            GdalLib.MessageHandler = null;
        }

        var mine = Assert.Single(seen, m => m.Text.Contains(garbage.Path, StringComparison.Ordinal));
        Assert.Equal(GdalErrorClass.Failure, mine.Class);
    }
}
