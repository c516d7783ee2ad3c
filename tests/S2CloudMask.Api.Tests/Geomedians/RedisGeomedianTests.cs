using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using S2CloudMask.Api.Extensions;
using S2CloudMask.Api.Geomedians;
using S2CloudMask.Api.Masks;
using S2CloudMask.Api.Tests.Support;
using S2CloudMask.Engine.Raster;
using StackExchange.Redis;

namespace S2CloudMask.Api.Tests.Geomedians;

/// <summary>
/// The Redis backend (Cache:Redis) against a real redis-server on 127.0.0.1: two service
/// instances with different cache folders see each other's geomedians, corrupt values are
/// dropped, a missing tile is computed once across replicas, and a Redis that is down gives a
/// 503 problem naming Redis, never a 500 or a hang.
/// </summary>
public sealed class RedisGeomedianTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    /// <summary>Keys of each test under a prefix of their own, so tests sharing the server never see each other.</summary>
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..12];

    [RedisFact(shared: true)]
    public async Task TwoInstancesSeeEachOthersGeomedians()
    {
        using var a = Replica(redis.Server);
        using var b = Replica(redis.Server);
        Assert.NotEqual(a.CacheDirectory, b.CacheDirectory);
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        var golden = File.ReadAllBytes(SharedData.Golden("geomedian-stack.npy"));

        // PUT through A ...
        using (var put = await clientA.PutAsync("/geomedians/55HFA", Requests.Npy(golden)))
        {
            Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
        }

        // ... B lists it, downloads it byte for byte, and classifies with it.
        var list = await clientB.GetFromJsonAsync<JsonElement>("/geomedians");
        Assert.Equal("redis", list.GetProperty("backend").GetString());
        var entry = list.GetProperty("geomedians").EnumerateArray().Single();
        Assert.Equal("55HFA", entry.GetProperty("tileId").GetString());
        Assert.Equal("put", entry.GetProperty("source").GetString());
        Assert.False(entry.GetProperty("inMemory").GetBoolean());
        Assert.Equal(Npy.Read(golden).Data, Npy.Read(await clientB.GetByteArrayAsync("/geomedians/55HFA?format=npy")).Data);

        var stack = File.ReadAllBytes(SharedData.Data("stack-wright.npy"));
        using (var mask = await clientB.PostAsync(
            "/mask?model=fast-shadow&tileId=55HFA&output=probability&format=npy&scale=0.0001", Requests.Npy(stack)))
        {
            Assert.True(mask.StatusCode == HttpStatusCode.OK, await mask.Content.ReadAsStringAsync());
            Assert.Equal("cached", mask.Headers.GetValues("X-Reference").Single());
            var p = Npy.Read(await mask.Content.ReadAsByteArrayAsync());
            AssertClose(Npy.Read(SharedData.Golden("fast-shadow-stack.npy")), p);
        }

        // Nothing went to either disk folder: Redis is the store.
        Assert.False(Directory.Exists(Path.Combine(a.CacheDirectory, "geomedians")) &&
                     Directory.EnumerateFiles(Path.Combine(a.CacheDirectory, "geomedians")).Any());

        // Replaced through B: A, which holds the old one in memory, serves the new one.
        Assert.NotNull(await clientA.GetByteArrayAsync("/geomedians/55HFA?format=npy"));
        var halved = Npy.Read(golden);
        var values = halved.AsSpan<float>().ToArray().Select(v => v / 2).ToArray();
        var replacement = new NdArray(ElementType.Float32, halved.Shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        using (var put = await clientB.PutAsync("/geomedians/55HFA", Requests.Npy(replacement)))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        Assert.Equal(replacement.Data, Npy.Read(await clientA.GetByteArrayAsync("/geomedians/55HFA?format=npy")).Data);

        // DELETE through A: gone for B too, its memory copy included.
        using (var delete = await clientA.DeleteAsync("/geomedians/55HFA"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using (var gone = await clientB.GetAsync("/geomedians/55HFA"))
        {
            await ProblemAssert.IsProblem(gone, HttpStatusCode.NotFound, "unknown-tile");
        }

        using (var mask = await clientB.PostAsync(
            "/mask?model=fast-shadow&tileId=55HFA&format=npy", Requests.Npy(File.ReadAllBytes(SharedData.Data("clear-wright-20160101.npy")))))
        {
            await ProblemAssert.IsProblem(mask, HttpStatusCode.NotFound, "unknown-tile");
        }

        Assert.Empty((await clientB.GetFromJsonAsync<JsonElement>("/geomedians")).GetProperty("geomedians").EnumerateArray());
        using (var again = await clientB.DeleteAsync("/geomedians/55HFA"))
        {
            await ProblemAssert.IsProblem(again, HttpStatusCode.NotFound, "unknown-tile");
        }
    }

    [RedisFact(shared: true)]
    public async Task StackWithMissingTileIsComputedByOneReplicaAndUsedByTheOther()
    {
        using var a = Replica(redis.Server);
        using var b = Replica(redis.Server);
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        var stack = File.ReadAllBytes(SharedData.Data("stack-wright.npy"));

        using var first = await clientA.PostAsync("/mask?model=fast-shadow&tileId=T55HFA&output=probability&format=npy&scale=0.0001", Requests.Npy(stack));
        Assert.True(first.StatusCode == HttpStatusCode.OK, await first.Content.ReadAsStringAsync());
        Assert.Equal("computed", first.Headers.GetValues("X-Reference").Single());

        using var second = await clientB.PostAsync("/mask?model=fast-shadow&tileId=T55HFA&output=probability&format=npy&scale=0.0001", Requests.Npy(stack));
        Assert.True(second.StatusCode == HttpStatusCode.OK, await second.Content.ReadAsStringAsync());
        Assert.Equal("cached", second.Headers.GetValues("X-Reference").Single());
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await second.Content.ReadAsByteArrayAsync());
    }

    [RedisTheory(shared: true)]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("garbage")]
    public async Task CorruptValueWrittenIntoRedisIsDetectedAndDropped(string damage)
    {
        using var a = Replica(redis.Server);
        using var b = Replica(redis.Server);
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        using (var put = await clientA.PutAsync("/geomedians/damaged", Requests.Npy(File.ReadAllBytes(SharedData.Golden("geomedian-stack.npy")))))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var db = direct.GetDatabase();
        var key = $"{_prefix}:geomedian:damaged";
        var bytes = (byte[])(await db.StringGetAsync(key))!;
        Assert.Equal("S2CMGM01"u8.ToArray(), bytes[..8]);
        byte[] damaged = damage switch
        {
            "flip" => Flip(bytes, bytes.Length / 2),
            "truncate" => bytes[..(bytes.Length - 1000)],
            _ => "not a geomedian at all"u8.ToArray(),
        };
        Assert.True(await db.StringSetAsync(key, damaged));

        // B never held it: it reads the value, checks the SHA-256 and drops it.
        using (var get = await clientB.GetAsync("/geomedians/damaged?format=npy"))
        {
            var problem = await ProblemAssert.IsProblem(get, HttpStatusCode.NotFound, "geomedian-corrupt");
            Assert.Contains("damaged", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.False(await db.KeyExistsAsync(key));
        var list = await clientB.GetFromJsonAsync<JsonElement>("/geomedians");
        Assert.Empty(list.GetProperty("geomedians").EnumerateArray());
        Assert.Equal("damaged", list.GetProperty("dropped").EnumerateArray().Single().GetProperty("tileId").GetString());

        // A's memory copy is not served once the entry is gone from Redis.
        using var again = await clientA.GetAsync("/geomedians/damaged");
        await ProblemAssert.IsProblem(again, HttpStatusCode.NotFound, "unknown-tile");
    }

    [RedisFact(shared: true)]
    public async Task MemoryCopyIsNotServedOnceTheValueInRedisChanged()
    {
        using var a = Replica(redis.Server);
        using var client = a.CreateClient();
        using (var put = await client.PutAsync("/geomedians/held", Requests.Npy(File.ReadAllBytes(SharedData.Golden("geomedian-stack.npy")))))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var db = direct.GetDatabase();
        var key = $"{_prefix}:geomedian:held";
        var bytes = (byte[])(await db.StringGetAsync(key))!;

        // The stored checksum (the version) altered, the length kept: the memory copy no longer matches.
        await db.StringSetAsync(key, Flip(bytes, bytes.Length - 1));
        using var get = await client.GetAsync("/geomedians/held");
        await ProblemAssert.IsProblem(get, HttpStatusCode.NotFound, "geomedian-corrupt");
    }

    [RedisFact(shared: true)]
    public async Task VerifiedListingDropsCorruptValues()
    {
        using var a = Replica(redis.Server);
        using var client = a.CreateClient();
        using (var put = await client.PutAsync("/geomedians/listed", Requests.Npy(File.ReadAllBytes(SharedData.Golden("geomedian-stack.npy")))))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var cheap = await client.GetFromJsonAsync<JsonElement>("/geomedians");
        Assert.Equal("listed", cheap.GetProperty("geomedians").EnumerateArray().Single().GetProperty("tileId").GetString());

        await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var db = direct.GetDatabase();
        var key = $"{_prefix}:geomedian:listed";
        var bytes = (byte[])(await db.StringGetAsync(key))!;
        await db.StringSetAsync(key, Flip(bytes, bytes.Length - 100));

        var list = await client.GetFromJsonAsync<JsonElement>("/geomedians?verify=true");
        Assert.Empty(list.GetProperty("geomedians").EnumerateArray());
        var dropped = list.GetProperty("dropped").EnumerateArray().Single();
        Assert.Equal("listed", dropped.GetProperty("tileId").GetString());
        Assert.Contains("checksum", dropped.GetProperty("reason").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.False(await db.KeyExistsAsync(key));
    }

    [RedisFact]
    public async Task EntryEvictedByRedisLeavesTheListingAndIsUnknown()
    {
        using var a = Replica(redis.Server, sharedModels: false);
        using var client = a.CreateClient();
        using (var put = await client.PutAsync("/geomedians/evicted", Requests.Npy(Synthetic(0.2f))))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var db = direct.GetDatabase();
        Assert.True(await db.KeyDeleteAsync($"{_prefix}:geomedian:evicted"));

        var list = await client.GetFromJsonAsync<JsonElement>("/geomedians");
        Assert.Empty(list.GetProperty("geomedians").EnumerateArray());
        Assert.Empty(list.GetProperty("dropped").EnumerateArray());
        using var get = await client.GetAsync("/geomedians/evicted");
        await ProblemAssert.IsProblem(get, HttpStatusCode.NotFound, "unknown-tile");
        await Task.Delay(200);
        Assert.False(await db.SetContainsAsync($"{_prefix}:geomedians", "evicted"));
    }

    [RedisFact]
    public async Task ReplicasComputeAMissingTileOnce()
    {
        var (cacheA, connectionA) = Cache(redis.Server);
        var (cacheB, connectionB) = Cache(redis.Server);
        await using (connectionA)
        await using (connectionB)
        {
            var computations = 0;
            var gate = new TaskCompletionSource();
            async Task<StoredGeomedian> Compute(CancellationToken _)
            {
                Interlocked.Increment(ref computations);
                await gate.Task;
                return Geomedian("once", 6, 7);
            }

            var requests = Enumerable.Range(0, 6)
                .Select(i => (i % 2 == 0 ? cacheA : cacheB).GetOrComputeAsync("once", _ => true, Compute, CancellationToken.None))
                .ToArray();
            await Task.Delay(500);
            gate.SetResult();
            var results = await Task.WhenAll(requests);

            Assert.Equal(1, computations);
            Assert.All(results, r => Assert.Equal(results[0].Geomedian.Data, r.Geomedian.Data));
            Assert.Equal(3, results.Count(r => r.Computed));
        }
    }

    [RedisFact]
    public async Task ReadyzReportsRedis()
    {
        using var a = Replica(redis.Server, sharedModels: false);
        using var client = a.CreateClient();

        var ready = await client.GetFromJsonAsync<JsonElement>("/readyz");

        var cache = ready.GetProperty("cache");
        Assert.Equal("redis", cache.GetProperty("backend").GetString());
        Assert.True(cache.GetProperty("reachable").GetBoolean());
        Assert.Contains(redis.Server.ConnectionString, cache.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task RedisGoingDownGivesA503ProblemNamingRedisAndComesBack()
    {
        using var server = new RedisServer();
        using var a = Replica(server, sharedModels: false);
        using var client = a.CreateClient();
        using (var put = await client.PutAsync("/geomedians/down", Requests.Npy(Synthetic(0.2f))))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        server.Stop();
        var clock = Stopwatch.StartNew();
        await AssertUnavailable(await client.GetAsync("/geomedians/down"), server);
        await AssertUnavailable(await client.PutAsync("/geomedians/down", Requests.Npy(Synthetic(0.2f))), server);
        await AssertUnavailable(await client.GetAsync("/geomedians"), server);
        await AssertUnavailable(await client.DeleteAsync("/geomedians/down"), server);
        await AssertUnavailable(await client.PostAsync("/mask?model=temporal&tileId=down&format=npy", Requests.Npy(Synthetic(0.3f))), server);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"answers took {clock.Elapsed}");

        // Requests without a tile do not need Redis.
        using (var mask = await client.PostAsync("/mask?model=spectral&format=npy", Requests.Npy(Synthetic(0.3f))))
        {
            Assert.Equal(HttpStatusCode.OK, mask.StatusCode);
        }

        var ready = await client.GetFromJsonAsync<JsonElement>("/readyz");
        Assert.False(ready.GetProperty("cache").GetProperty("reachable").GetBoolean());
        Assert.Contains("unreachable", ready.GetProperty("cache").GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Back (empty: no persistence): the service reconnects by itself.
        server.Start();
        var deadline = Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            await Task.Delay(250);
            using var get = await client.GetAsync("/geomedians/down");
            status = get.StatusCode;
        }
        while (status == HttpStatusCode.ServiceUnavailable && deadline.Elapsed < TimeSpan.FromSeconds(60));

        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [RedisFact]
    public async Task UnreachableRedisAtStartGivesA503ProblemNotAHang()
    {
        var port = RedisServer.FreePort();
        using var a = CloudMaskApiFactory.With(
            new Dictionary<string, string?> { ["Cache:Redis"] = $"127.0.0.1:{port}", ["Cache:RedisKeyPrefix"] = _prefix },
            withSharedModels: false,
            wrightReference: false);
        var clock = Stopwatch.StartNew();
        using var client = a.CreateClient();

        using var put = await client.PutAsync("/geomedians/nowhere", Requests.Npy(Synthetic(0.2f)));
        var problem = await ProblemAssert.IsProblem(put, HttpStatusCode.ServiceUnavailable, GeomedianStoreUnavailableException.Code);
        Assert.Contains($"Redis at 127.0.0.1:{port}", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var get = await client.GetAsync("/geomedians/nowhere");
        await ProblemAssert.IsProblem(get, HttpStatusCode.ServiceUnavailable, GeomedianStoreUnavailableException.Code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");

        using var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.False(JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("cache").GetProperty("reachable").GetBoolean());
    }

    /// <summary>The geomedian cache's registration alone (see <see cref="StartFailure"/>).</summary>
    [Fact]
    public async Task MalformedRedisConnectionStringStopsTheStart()
    {
        var e = await StartFailure.Of(
            new Dictionary<string, string?> { ["Cache:Redis"] = "127.0.0.1:6379,connectTimeout=soon" }, services => services.AddGeomedianCache());

        Assert.IsType<OptionsValidationException>(e);
        Assert.Contains("Cache:Redis", e.Message, StringComparison.Ordinal);
    }

    private CloudMaskApiFactory Replica(RedisServer server, bool sharedModels = true) =>
        CloudMaskApiFactory.With(
            new Dictionary<string, string?> { ["Cache:Redis"] = server.ConnectionString, ["Cache:RedisKeyPrefix"] = _prefix },
            withSharedModels: sharedModels,
            wrightReference: false);

    private (GeomedianCache Cache, RedisConnection Connection) Cache(RedisServer server)
    {
        var options = Options.Create(new CacheOptions { Redis = server.ConnectionString, RedisKeyPrefix = _prefix, MaxMemoryBytes = 1 << 20 });
        var connection = new RedisConnection(options, NullLogger<RedisConnection>.Instance);
        var backend = new RedisGeomedianBackend(connection, options, NullLogger<RedisGeomedianBackend>.Instance);
        return (new GeomedianCache(backend, options, NullLogger<GeomedianCache>.Instance), connection);
    }

    private static async Task AssertUnavailable(HttpResponseMessage response, RedisServer server)
    {
        using (response)
        {
            var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.ServiceUnavailable, GeomedianStoreUnavailableException.Code);
            Assert.Contains($"Redis at {server.ConnectionString}", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.True(response.Headers.RetryAfter is not null);
        }
    }

    /// <summary>A small (8, 9, 10) float32 reflectance array: a reference or an observation without ../shared.</summary>
    private static NdArray Synthetic(float level)
    {
        var values = Enumerable.Range(0, 8 * 9 * 10).Select(i => level + ((i % 10) * 0.01f)).ToArray();
        return NdArray.Create(values, 8, 9, 10);
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x40;
        return copy;
    }

    private static StoredGeomedian Geomedian(string id, int h, int w)
    {
        var values = Enumerable.Range(0, h * w * 10).Select(i => 0.25f + (i * 1e-3f)).ToArray();
        return StoredGeomedian.FromValues(id, values, h, w, 10, null, "put");
    }

    /// <summary>The parity tolerance (as in the disk tests): |dp| &lt;= 1e-4 and equal masks on 99.9 % of pixels.</summary>
    private static void AssertClose(NdArray golden, NdArray actual)
    {
        Assert.Equal(golden.Shape, actual.Shape);
        var g = golden.AsSpan<float>();
        var x = actual.AsSpan<float>();
        long close = 0, same = 0;
        for (var i = 0; i < g.Length; i++)
        {
            Assert.Equal(float.IsNaN(g[i]), float.IsNaN(x[i]));
            close += float.IsNaN(g[i]) || Math.Abs(g[i] - x[i]) <= 1e-4 ? 1 : 0;
            same += (g[i] > 0.5f) == (x[i] > 0.5f) ? 1 : 0;
        }

        Assert.True(close >= 0.999 * g.Length, $"|dp| <= 1e-4 on {close} of {g.Length}");
        Assert.True(same >= 0.999 * g.Length, $"masks equal on {same} of {g.Length}");
    }
}
