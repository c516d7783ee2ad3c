using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace S2CloudMask.Api.Geomedians;

/// <summary>A cached geomedian that failed verification and was dropped.</summary>
public sealed record DroppedGeomedian(string TileId, string Reason, DateTimeOffset DetectedUtc);

/// <summary>
/// Geomedians by tile ID: an in-memory LRU bounded in bytes (Cache:MaxMemoryBytes) in front of
/// a persistent backend (disk, or Redis shared by replicas). A memory hit is served only while
/// the backend still holds the same version (checksum), so a replica never serves a geomedian
/// another replica replaced or deleted. Loads and computations of one tile are single-flight:
/// concurrent requests for a missing tile wait for one computation (per process; across
/// replicas too when the backend offers a compute lock, as Redis does). A corrupt entry is
/// dropped from the backend, logged and remembered under <see cref="Dropped"/>; it is never served.
/// </summary>
public sealed partial class GeomedianCache
{
    private readonly IGeomedianBackend _backend;
    private readonly long _maxMemoryBytes;
    private readonly ILogger<GeomedianCache> _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<MemoryEntry>> _memory = new(StringComparer.Ordinal);
    private readonly LinkedList<MemoryEntry> _lru = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<StoredGeomedian?>>> _loads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<(StoredGeomedian Geomedian, bool Computed)>>> _computations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DroppedGeomedian> _dropped = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastUsed = new(StringComparer.Ordinal);
    private long _memoryBytes;

    public GeomedianCache(IGeomedianBackend backend, IOptions<CacheOptions> options, ILogger<GeomedianCache> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _backend = backend;
        _maxMemoryBytes = options.Value.MaxMemoryBytes;
        _logger = logger;
    }

    public string BackendName => _backend.Name;

    /// <summary>Bytes of pixels held in memory now.</summary>
    public long MemoryBytes => Interlocked.Read(ref _memoryBytes);

    /// <summary>Entries found corrupt (and dropped) since start-up, until their tile is stored again.</summary>
    public IReadOnlyCollection<DroppedGeomedian> Dropped => [.. _dropped.Values.OrderBy(d => d.TileId, StringComparer.Ordinal)];

    /// <summary>
    /// The geomedian of the tile, or null when none is stored. Throws
    /// <see cref="CorruptGeomedianException"/> (after dropping the entry) when it fails verification.
    /// </summary>
    public async Task<StoredGeomedian?> FindAsync(string tileId, CancellationToken cancellationToken)
    {
        TileIds.Validate(tileId);
        var version = await _backend.GetVersionAsync(tileId, cancellationToken);
        if (version is null)
        {
            Forget(tileId);
            return null;
        }

        if (FromMemory(tileId) is { } cached && cached.Version == version)
        {
            await UsedAsync(tileId, cancellationToken);
            return cached.Geomedian;
        }

        // One load per tile at a time; the others wait for it. Not cancelled by the first
        // caller going away, since the others still want it.
        var load = _loads.GetOrAdd(tileId, id => new Lazy<Task<StoredGeomedian?>>(() => LoadAsync(id)));
        try
        {
            var found = await load.Value.WaitAsync(cancellationToken);
            if (found is not null)
            {
                await UsedAsync(tileId, cancellationToken);
            }

            return found;
        }
        finally
        {
            _loads.TryRemove(new KeyValuePair<string, Lazy<Task<StoredGeomedian?>>>(tileId, load));
        }
    }

    /// <summary>Stores (replacing) a geomedian: backend first, then memory; clears any "dropped" report of the tile.</summary>
    public async Task<StoredGeomedian> StoreAsync(StoredGeomedian geomedian, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(geomedian);
        TileIds.Validate(geomedian.TileId);

        // The write is not cancelled half-way by the caller: the backend replaces atomically anyway.
        await _backend.WriteAsync(geomedian, CancellationToken.None);
        Remember(geomedian, CurrentFor(geomedian, await _backend.GetVersionAsync(geomedian.TileId, CancellationToken.None)));
        _dropped.TryRemove(geomedian.TileId, out _);
        _lastUsed[geomedian.TileId] = DateTimeOffset.UtcNow;
        LogStored(_logger, geomedian.TileId, geomedian.Height, geomedian.Width, geomedian.Source, _backend.Name);
        return geomedian;
    }

    /// <summary>
    /// The stored geomedian when there is one and <paramref name="usable"/> accepts it; otherwise
    /// computes it once (concurrent callers for the same tile share the computation), stores it
    /// and returns it. Returns whether this call's result was computed.
    /// </summary>
    public async Task<(StoredGeomedian Geomedian, bool Computed)> GetOrComputeAsync(
        string tileId, Func<StoredGeomedian, bool> usable, Func<CancellationToken, Task<StoredGeomedian>> compute, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(usable);
        ArgumentNullException.ThrowIfNull(compute);
        StoredGeomedian? existing;
        try
        {
            existing = await FindAsync(tileId, cancellationToken);
        }
        catch (CorruptGeomedianException)
        {
            // Dropped and reported; computing it again is exactly the remedy.
            existing = null;
        }

        if (existing is not null && usable(existing))
        {
            return (existing, false);
        }

        var computation = _computations.GetOrAdd(
            tileId,
            id => new Lazy<Task<(StoredGeomedian, bool)>>(() => ComputeOnceAsync(id, usable, compute)));
        try
        {
            return await computation.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            _computations.TryRemove(new KeyValuePair<string, Lazy<Task<(StoredGeomedian Geomedian, bool Computed)>>>(tileId, computation));
        }
    }

    public async Task<bool> DeleteAsync(string tileId, CancellationToken cancellationToken)
    {
        TileIds.Validate(tileId);
        Forget(tileId);
        _lastUsed.TryRemove(tileId, out _);
        var existed = await _backend.DeleteAsync(tileId, cancellationToken);
        existed |= _dropped.TryRemove(tileId, out _);
        return existed;
    }

    /// <summary>Every stored entry; corrupt ones found while listing are dropped and reported too.</summary>
    public async Task<IReadOnlyList<BackendEntry>> ListAsync(bool verify, CancellationToken cancellationToken)
    {
        var entries = await _backend.ListAsync(verify, cancellationToken);
        var good = new List<BackendEntry>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.CorruptReason is { } reason)
            {
                await DropAsync(entry.TileId, reason);
                continue;
            }

            var lastUsed = _lastUsed.TryGetValue(entry.TileId, out var used) && (entry.LastUsedUtc is null || used > entry.LastUsedUtc)
                ? used
                : entry.LastUsedUtc;
            good.Add(entry with { LastUsedUtc = lastUsed });
        }

        return good;
    }

    public bool IsInMemory(string tileId)
    {
        lock (_gate)
        {
            return _memory.ContainsKey(tileId);
        }
    }

    /// <summary>
    /// The one computation of this process for the tile: under the backend's cross-replica lock
    /// when it has one, and then first looking whether another replica stored it meanwhile.
    /// Not cancelled by the first caller going away, since the others still want it.
    /// </summary>
    private async Task<(StoredGeomedian, bool)> ComputeOnceAsync(
        string tileId, Func<StoredGeomedian, bool> usable, Func<CancellationToken, Task<StoredGeomedian>> compute)
    {
        await using var held = await _backend.LockForComputeAsync(tileId, CancellationToken.None);
        if (held is not null)
        {
            try
            {
                if (await FindAsync(tileId, CancellationToken.None) is { } stored && usable(stored))
                {
                    return (stored, false);
                }
            }
            catch (CorruptGeomedianException)
            {
                // Dropped and reported; computed again below.
            }
        }

        return (await StoreAsync(await compute(CancellationToken.None), CancellationToken.None), true);
    }

    /// <summary>
    /// The version when it is the version of <paramref name="geomedian"/> (the version starts with
    /// the checksum); null when another writer replaced the entry in between, so the memory copy
    /// is not taken for the newer entry.
    /// </summary>
    private static string? CurrentFor(StoredGeomedian geomedian, string? version) =>
        version is not null && geomedian.Checksum.Length > 0 && version.StartsWith(geomedian.Checksum, StringComparison.Ordinal) ? version : null;

    private async Task<StoredGeomedian?> LoadAsync(string tileId)
    {
        try
        {
            var loaded = await _backend.ReadAsync(tileId, CancellationToken.None);
            if (loaded is not null)
            {
                Remember(loaded, CurrentFor(loaded, await _backend.GetVersionAsync(tileId, CancellationToken.None)));
            }

            return loaded;
        }
        catch (CorruptGeomedianException e)
        {
            await DropAsync(tileId, e.Reason);
            throw;
        }
    }

    private async Task DropAsync(string tileId, string reason)
    {
        Forget(tileId);
        _dropped[tileId] = new DroppedGeomedian(tileId, reason, DateTimeOffset.UtcNow);
        LogCorrupt(_logger, tileId, reason, _backend.Name);
        try
        {
            await _backend.DeleteAsync(tileId, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or GeomedianStoreUnavailableException)
        {
            LogDropFailed(_logger, e, tileId);
        }
    }

    private async Task UsedAsync(string tileId, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        _lastUsed[tileId] = now;
        await _backend.TouchAsync(tileId, now, cancellationToken);
    }

    private MemoryEntry? FromMemory(string tileId)
    {
        lock (_gate)
        {
            if (!_memory.TryGetValue(tileId, out var node))
            {
                return null;
            }

            _lru.Remove(node);
            _lru.AddFirst(node);
            return node.Value;
        }
    }

    private void Remember(StoredGeomedian geomedian, string? version)
    {
        lock (_gate)
        {
            RemoveLocked(geomedian.TileId);
            if (version is null || geomedian.PixelBytes > _maxMemoryBytes)
            {
                return; // larger than the whole budget: served from the backend every time
            }

            _memory[geomedian.TileId] = _lru.AddFirst(new MemoryEntry(geomedian, version));
            _memoryBytes += geomedian.PixelBytes;
            while (_memoryBytes > _maxMemoryBytes && _lru.Last is { } oldest)
            {
                RemoveLocked(oldest.Value.Geomedian.TileId);
            }
        }
    }

    private void Forget(string tileId)
    {
        lock (_gate)
        {
            RemoveLocked(tileId);
        }
    }

    private void RemoveLocked(string tileId)
    {
        if (_memory.Remove(tileId, out var node))
        {
            _lru.Remove(node);
            _memoryBytes -= node.Value.Geomedian.PixelBytes;
        }
    }

    /// <summary>A geomedian held in memory and the backend version it was read or written as.</summary>
    private sealed record MemoryEntry(StoredGeomedian Geomedian, string Version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored geomedian {TileId} ({Height} x {Width}, from {Source}) in the {Backend} cache")]
    private static partial void LogStored(ILogger logger, string tileId, int height, int width, string source, string backend);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped corrupt geomedian {TileId} from the {Backend} cache: {Reason}")]
    private static partial void LogCorrupt(ILogger logger, string tileId, string reason, string backend);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not delete corrupt geomedian {TileId}")]
    private static partial void LogDropFailed(ILogger logger, Exception exception, string tileId);
}
