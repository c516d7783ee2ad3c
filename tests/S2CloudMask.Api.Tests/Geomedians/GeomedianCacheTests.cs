using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using S2CloudMask.Api.Geomedians;
using S2CloudMask.Api.Masks;
using S2CloudMask.Api.Tests.Support;

namespace S2CloudMask.Api.Tests.Geomedians;

/// <summary>The cache itself: single-flight computation, the memory bound, atomic files, the format's checks.</summary>
public sealed class GeomedianCacheTests : IDisposable
{
    private readonly string _directory = CloudMaskApiFactory.NewCacheDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ConcurrentRequestsForAMissingTileComputeItOnce()
    {
        var cache = Cache();
        var computations = 0;
        var gate = new TaskCompletionSource();
        async Task<StoredGeomedian> Compute(CancellationToken _)
        {
            Interlocked.Increment(ref computations);
            await gate.Task;
            return Geomedian("T1", 4, 5);
        }

        var requests = Enumerable.Range(0, 8).Select(_ => cache.GetOrComputeAsync("T1", _ => true, Compute, CancellationToken.None)).ToArray();
        await Task.Delay(100);
        gate.SetResult();
        var results = await Task.WhenAll(requests);

        Assert.Equal(1, computations);
        Assert.All(results, r => Assert.Same(results[0].Geomedian, r.Geomedian));
        var (again, computed) = await cache.GetOrComputeAsync("T1", _ => true, Compute, CancellationToken.None);
        Assert.False(computed);
        Assert.Equal(1, computations);
        Assert.Equal(results[0].Geomedian.Data, again.Data);
    }

    [Fact]
    public async Task MemoryHoldsAtMostTheConfiguredBytes()
    {
        var one = Geomedian("A", 10, 10).PixelBytes;
        var cache = Cache(maxMemoryBytes: (2 * one) + 1);
        foreach (var id in new[] { "A", "B", "C" })
        {
            await cache.StoreAsync(Geomedian(id, 10, 10), CancellationToken.None);
        }

        Assert.False(cache.IsInMemory("A"));
        Assert.True(cache.IsInMemory("B"));
        Assert.True(cache.IsInMemory("C"));
        Assert.True(cache.MemoryBytes <= (2 * one) + 1);

        // Evicted entries still come from disk, and become the most recent.
        Assert.NotNull(await cache.FindAsync("A", CancellationToken.None));
        Assert.True(cache.IsInMemory("A"));
        Assert.False(cache.IsInMemory("B"));
    }

    [Fact]
    public async Task WritesLeaveNoTemporaryFilesAndReplaceAtomically()
    {
        var cache = Cache();
        await cache.StoreAsync(Geomedian("R", 3, 3, 1f), CancellationToken.None);
        await cache.StoreAsync(Geomedian("R", 3, 3, 2f), CancellationToken.None);

        var files = Directory.GetFiles(Path.Combine(_directory, "geomedians"));
        Assert.Equal([Path.Combine(_directory, "geomedians", "R.s2gm")], files);
        var fresh = Cache();
        var found = await fresh.FindAsync("R", CancellationToken.None);
        Assert.Equal(2f, found!.Values[0]);
    }

    [Fact]
    public void FormatRejectsEveryTruncation()
    {
        var bytes = GeomedianFormat.ToBytes(Geomedian("F", 3, 4));
        Assert.Equal(Geomedian("F", 3, 4).Data, GeomedianFormat.Read(bytes, "F").Data);
        for (var length = 0; length < bytes.Length; length += 7)
        {
            Assert.Throws<CorruptGeomedianException>(() => GeomedianFormat.Read(bytes[..length], "F"));
        }

        // A file renamed to another tile is not served as that tile.
        Assert.Throws<CorruptGeomedianException>(() => GeomedianFormat.Read(bytes, "G"));
    }

    [Theory]
    [InlineData("55HFA", true)]
    [InlineData("tile_1-a", true)]
    [InlineData("", false)]
    [InlineData("a/b", false)]
    [InlineData("a.b", false)]
    [InlineData("..", false)]
    [InlineData("a\\b", false)]
    [InlineData("a\0b", false)]
    [InlineData("ü", false)]
    public void TileIdsAreAClosedAlphabet(string id, bool valid) => Assert.Equal(valid, TileIds.IsValid(id));

    private GeomedianCache Cache(long maxMemoryBytes = 1 << 20)
    {
        var options = Options.Create(new CacheOptions { Directory = _directory, MaxMemoryBytes = maxMemoryBytes });
        return new GeomedianCache(
            new DiskGeomedianBackend(options, NullLogger<DiskGeomedianBackend>.Instance), options, NullLogger<GeomedianCache>.Instance);
    }

    private static StoredGeomedian Geomedian(string id, int h, int w, float value = 0.25f)
    {
        var values = Enumerable.Range(0, h * w * 10).Select(i => value + (i * 1e-3f)).ToArray();
        return StoredGeomedian.FromValues(id, values, h, w, 10, new Georeference([0, 10, 0, 0, 0, -10], null), "put");
    }
}
