using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using S2CloudMask.Api.Problems;
using StackExchange.Redis;

namespace S2CloudMask.Api.Geomedians;

/// <summary>
/// Geomedians in a Redis shared by every replica (<c>Cache:Redis</c>). Keys, under
/// <c>Cache:RedisKeyPrefix</c> (p):
/// <list type="bullet">
/// <item><c>p:geomedian:{tileId}</c>: the whole file, byte for byte as on disk (<see cref="GeomedianFormat"/>,
/// ending with its SHA-256), written with one SET, so readers see the old value or the new one;</item>
/// <item><c>p:geomedian-meta:{tileId}</c>: a hash with created, lastUsed (Unix ms), checksum and bytes;</item>
/// <item><c>p:geomedians</c>: the set of tile IDs, for listings;</item>
/// <item><c>p:geomedian-lock:{tileId}</c>: the lock (SET NX PX, renewed) of the replica computing a missing tile.</item>
/// </list>
/// The version of an entry is its length and last 32 bytes (the checksum), read atomically by a
/// script: one small round trip tells a replica whether its memory copy is still current. Every
/// value read is verified against its checksum before use; a corrupt one is dropped by the
/// cache, never served. Connection failures and Redis errors become
/// <see cref="GeomedianStoreUnavailableException"/> (503, naming Redis).
/// </summary>
public sealed partial class RedisGeomedianBackend : IGeomedianBackend
{
    /// <summary>Bytes fetched per entry by a listing: enough for any usual header (it is fetched again whole when longer).</summary>
    private const int HeaderProbeBytes = 8 << 10;

    private const string VersionScript = """
        local n = redis.call('STRLEN', KEYS[1])
        if n == 0 then return false end
        return {n, redis.call('GETRANGE', KEYS[1], -32, -1)}
        """;

    private const string TouchScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[2], 'lastUsed', ARGV[1]) end
        return 0
        """;

    private const string UnindexScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
        return 0
        """;

    private readonly RedisConnection _redis;
    private readonly ILogger<RedisGeomedianBackend> _logger;
    private readonly string _prefix;
    private readonly TimeSpan _lockLifetime;
    private readonly long _maxValueBytes;

    public RedisGeomedianBackend(RedisConnection redis, IOptions<CacheOptions> options, ILogger<RedisGeomedianBackend> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _logger = logger;
        _prefix = options.Value.RedisKeyPrefix;
        _lockLifetime = TimeSpan.FromSeconds(options.Value.RedisLockSeconds);
        _maxValueBytes = options.Value.RedisMaxValueBytes;
    }

    public string Name => "redis";

    public string Endpoint => _redis.Endpoint;

    /// <summary>The key holding the tile's file; the ID is validated again so no caller can name another key.</summary>
    public string DataKey(string tileId) => $"{_prefix}:geomedian:{TileIds.Validate(tileId)}";

    public string MetaKey(string tileId) => $"{_prefix}:geomedian-meta:{TileIds.Validate(tileId)}";

    public string LockKey(string tileId) => $"{_prefix}:geomedian-lock:{TileIds.Validate(tileId)}";

    public string IndexKey => $"{_prefix}:geomedians";

    public Task<string?> GetVersionAsync(string tileId, CancellationToken cancellationToken) =>
        Guard(async db =>
        {
            var result = await db.ScriptEvaluateAsync(VersionScript, [DataKey(tileId)]);
            if (result.IsNull)
            {
                return null;
            }

            var parts = (RedisResult[])result!;
            var length = (long)parts[0];
            var trailer = (byte[])parts[1]!;
            return length < GeomedianFormat.ChecksumLength
                ? "truncated"
                : $"{GeomedianFormat.ChecksumHex(trailer)}:{length.ToString(CultureInfo.InvariantCulture)}";
        });

    public Task<StoredGeomedian?> ReadAsync(string tileId, CancellationToken cancellationToken) =>
        Guard(async db =>
        {
            using var lease = await db.StringGetLeaseAsync(DataKey(tileId));
            if (lease is null)
            {
                return null;
            }

            using var stream = lease.AsStream(ownsLease: false);
            return (StoredGeomedian?)GeomedianFormat.Read(stream, tileId);
        });

    public async Task WriteAsync(StoredGeomedian geomedian, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(geomedian);
        var bytes = GeomedianFormat.ToBytes(geomedian);
        if (bytes.LongLength > _maxValueBytes)
        {
            throw new UnprocessableInputException(
                "geomedian-too-large",
                $"the geomedian of tile '{geomedian.TileId}' takes {bytes.LongLength} bytes, more than the shared Redis cache stores " +
                $"(Cache:RedisMaxValueBytes = {_maxValueBytes}); ask for a smaller bbox or a coarser resolution");
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Guard(async db =>
        {
            var transaction = db.CreateTransaction();
            Task[] commands =
            [
                transaction.StringSetAsync(DataKey(geomedian.TileId), bytes),
                transaction.HashSetAsync(
                    MetaKey(geomedian.TileId),
                    [
                        new HashEntry("created", geomedian.CreatedUtc.ToUnixTimeMilliseconds()),
                        new HashEntry("lastUsed", now),
                        new HashEntry("checksum", geomedian.Checksum),
                        new HashEntry("bytes", bytes.LongLength),
                    ]),
                transaction.SetAddAsync(IndexKey, geomedian.TileId),
            ];
            await ExecuteAsync(transaction, commands);
            return true;
        });
    }

    public Task<bool> DeleteAsync(string tileId, CancellationToken cancellationToken) =>
        Guard(async db =>
        {
            var transaction = db.CreateTransaction();
            var data = transaction.KeyDeleteAsync(DataKey(tileId));
            Task[] commands = [data, transaction.KeyDeleteAsync(MetaKey(tileId)), transaction.SetRemoveAsync(IndexKey, tileId)];
            await ExecuteAsync(transaction, commands);
            return await data;
        });

    public Task<IReadOnlyList<BackendEntry>> ListAsync(bool verify, CancellationToken cancellationToken) =>
        Guard<IReadOnlyList<BackendEntry>>(async db =>
        {
            var members = await db.SetMembersAsync(IndexKey);
            var ids = members.Select(m => (string?)m).OfType<string>().Where(TileIds.IsValid).Distinct().Order(StringComparer.Ordinal).ToArray();

            // One pipelined round trip for every entry: length, first bytes, last use.
            var probes = ids.Select(id => (
                    Id: id,
                    Length: db.StringLengthAsync(DataKey(id)),
                    Prefix: db.StringGetRangeAsync(DataKey(id), 0, HeaderProbeBytes - 1),
                    LastUsed: db.HashGetAsync(MetaKey(id), "lastUsed")))
                .ToArray();
            await Task.WhenAll(probes.SelectMany(p => new Task[] { p.Length, p.Prefix, p.LastUsed }));

            var entries = new List<BackendEntry>(probes.Length);
            foreach (var probe in probes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var length = await probe.Length;
                if (length == 0)
                {
                    // Deleted meanwhile, or evicted / expired by Redis itself: forget the index entry
                    // (atomically with looking again, so an entry written just now keeps it).
                    await db.ScriptEvaluateAsync(UnindexScript, [DataKey(probe.Id), IndexKey], [probe.Id], CommandFlags.FireAndForget);
                    continue;
                }

                var lastUsedValue = await probe.LastUsed;
                DateTimeOffset? lastUsed = lastUsedValue.TryParse(out long ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
                try
                {
                    GeomedianHeader header;
                    if (verify)
                    {
                        using var lease = await db.StringGetLeaseAsync(DataKey(probe.Id));
                        if (lease is null)
                        {
                            continue;
                        }

                        using var stream = lease.AsStream(ownsLease: false);
                        var g = GeomedianFormat.Read(stream, probe.Id);
                        length = lease.Length;
                        header = new GeomedianHeader(
                            g.TileId, g.Height, g.Width, g.Bands, g.Georeference?.GeoTransform, g.Georeference?.ProjectionWkt, g.CreatedUtc, g.Source, g.Summary);
                    }
                    else
                    {
                        var prefix = (byte[])(await probe.Prefix)!;
                        if (GeomedianFormat.HeaderEnd(prefix) is { } end && end > prefix.Length && end <= length)
                        {
                            prefix = (byte[])(await db.StringGetRangeAsync(DataKey(probe.Id), 0, end - 1))!;
                        }

                        header = GeomedianFormat.ReadHeaderOnly(prefix, length, probe.Id);
                    }

                    entries.Add(new BackendEntry(probe.Id, header, length, lastUsed, null));
                }
                catch (CorruptGeomedianException e)
                {
                    entries.Add(new BackendEntry(probe.Id, null, 0, null, e.Reason));
                }
            }

            return entries;
        });

    public async Task TouchAsync(string tileId, DateTimeOffset when, CancellationToken cancellationToken)
    {
        try
        {
            // Bookkeeping only: sent without waiting for the answer, and only while the entry exists.
            await Guard(async db =>
            {
                await db.ScriptEvaluateAsync(
                    TouchScript, [DataKey(tileId), MetaKey(tileId)], [when.ToUnixTimeMilliseconds()], CommandFlags.FireAndForget);
                return true;
            });
        }
        catch (GeomedianStoreUnavailableException e)
        {
            // Must not fail a request that already has its geomedian.
            LogTouchFailed(_logger, tileId, e.Message);
        }
    }

    public async Task<BackendHealth> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            var latency = await Guard(async db => await db.PingAsync()).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return new BackendHealth(Name, true, $"Redis at {Endpoint} answers ({latency.TotalMilliseconds:0.0} ms)");
        }
        catch (GeomedianStoreUnavailableException e)
        {
            return new BackendHealth(Name, false, $"Redis at {Endpoint} is unreachable: {Reason(e.InnerException)}");
        }
        catch (TimeoutException)
        {
            return new BackendHealth(Name, false, $"Redis at {Endpoint} did not answer within 5 s");
        }
    }

    public async Task<IAsyncDisposable?> LockForComputeAsync(string tileId, CancellationToken cancellationToken)
    {
        if (_lockLifetime <= TimeSpan.Zero)
        {
            return null;
        }

        var key = LockKey(tileId);
        var token = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
        var clock = Stopwatch.StartNew();
        var waited = false;
        while (true)
        {
            var db = await Guard(db => Task.FromResult(db));
            if (await Guard(_ => db.LockTakeAsync(key, token, _lockLifetime)))
            {
                if (waited)
                {
                    LogLockAcquiredAfterWait(_logger, tileId, clock.ElapsedMilliseconds);
                }

                return new ComputeLock(db, key, token, _lockLifetime, tileId, _logger);
            }

            if (!waited)
            {
                LogLockWaiting(_logger, tileId);
                waited = true;
            }

            if (clock.Elapsed > _lockLifetime)
            {
                // The holder keeps renewing a computation longer than the lock's lifetime:
                // compute here too rather than wait without end (at least once per replica).
                LogLockGaveUp(_logger, tileId, clock.ElapsedMilliseconds);
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    /// <summary>Runs a Redis operation; connection failures, timeouts and Redis errors become <see cref="GeomedianStoreUnavailableException"/>.</summary>
    private async Task<T> Guard<T>(Func<IDatabase, Task<T>> operation)
    {
        try
        {
            var db = await _redis.DatabaseAsync();
            return await operation(db);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException or TimeoutException or ObjectDisposedException)
        {
            throw new GeomedianStoreUnavailableException("Redis", Endpoint, Reason(e), e);
        }
    }

    private static async Task ExecuteAsync(ITransaction transaction, Task[] commands)
    {
        try
        {
            if (!await transaction.ExecuteAsync())
            {
                throw new RedisException("the transaction was not applied");
            }

            await Task.WhenAll(commands);
        }
        catch
        {
            // The queued commands fail with the transaction: observe them, report the transaction's error.
            foreach (var command in commands)
            {
                _ = command.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            throw;
        }
    }

    private static string Reason(Exception? e) => e switch
    {
        RedisConnectionException c => $"no connection ({c.FailureType})",
        RedisTimeoutException or TimeoutException => "no answer within the timeout",
        RedisServerException s => "Redis answered an error: " + FirstLine(s.Message),
        ObjectDisposedException => "the service is shutting down",
        null => "unknown",
        _ => FirstLine(e.Message),
    };

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length <= 200 ? line : line[..200] + "...";
    }

    /// <summary>The lock of one computation, renewed every third of its lifetime until disposed.</summary>
    private sealed class ComputeLock : IAsyncDisposable
    {
        private readonly IDatabase _db;
        private readonly RedisKey _key;
        private readonly RedisValue _token;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _renewal;

        public ComputeLock(IDatabase db, RedisKey key, RedisValue token, TimeSpan lifetime, string tileId, ILogger logger)
        {
            _db = db;
            _key = key;
            _token = token;
            _renewal = RenewAsync(lifetime, tileId, logger);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _renewal;
            _stop.Dispose();
            try
            {
                await _db.LockReleaseAsync(_key, _token);
            }
            catch (Exception e) when (e is RedisException or RedisTimeoutException)
            {
                // It expires by itself.
            }
        }

        private async Task RenewAsync(TimeSpan lifetime, string tileId, ILogger logger)
        {
            try
            {
                while (true)
                {
                    await Task.Delay(lifetime / 3, _stop.Token);
                    if (!await _db.LockExtendAsync(_key, _token, lifetime))
                    {
                        LogLockLost(logger, tileId);
                        return;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e) when (e is RedisException or RedisTimeoutException)
            {
                LogLockLost(logger, tileId);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not record the last use of geomedian {TileId}: {Reason}")]
    private static partial void LogTouchFailed(ILogger logger, string tileId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Another replica is computing geomedian {TileId}; waiting for it")]
    private static partial void LogLockWaiting(ILogger logger, string tileId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Took the compute lock of geomedian {TileId} after waiting {Milliseconds} ms")]
    private static partial void LogLockAcquiredAfterWait(ILogger logger, string tileId, long milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gave up waiting for another replica computing geomedian {TileId} after {Milliseconds} ms; computing it here too")]
    private static partial void LogLockGaveUp(ILogger logger, string tileId, long milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the compute lock of geomedian {TileId} (expired or Redis unreachable); another replica may compute it too")]
    private static partial void LogLockLost(ILogger logger, string tileId);
}
