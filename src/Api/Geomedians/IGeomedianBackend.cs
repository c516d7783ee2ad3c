namespace S2CloudMask.Api.Geomedians;

/// <summary>One stored entry as a listing sees it: its header, or why it is unusable.</summary>
public sealed record BackendEntry(string TileId, GeomedianHeader? Header, long StoredBytes, DateTimeOffset? LastUsedUtc, string? CorruptReason);

/// <summary>Whether the store answers, for /readyz: the backend, reachable or not, and a line saying where and why.</summary>
public sealed record BackendHealth(string Backend, bool Reachable, string Detail);

/// <summary>
/// Where geomedians persist behind the in-memory LRU: a folder on disk, or Redis shared by
/// replicas. Values are whole files in <see cref="GeomedianFormat"/>; the version of an entry
/// is its checksum, so a replica can tell cheaply whether its memory copy is still current.
/// </summary>
public interface IGeomedianBackend
{
    /// <summary>"disk" or "redis", for listings and logs.</summary>
    string Name { get; }

    /// <summary>A version of the stored entry (its checksum, plus what the backend can cheaply tell), or null when there is none.</summary>
    Task<string?> GetVersionAsync(string tileId, CancellationToken cancellationToken);

    /// <summary>The verified entry, or null when there is none; <see cref="CorruptGeomedianException"/> when it fails verification.</summary>
    Task<StoredGeomedian?> ReadAsync(string tileId, CancellationToken cancellationToken);

    /// <summary>Stores (replacing atomically) and sets <see cref="StoredGeomedian.Checksum"/>.</summary>
    Task WriteAsync(StoredGeomedian geomedian, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string tileId, CancellationToken cancellationToken);

    /// <summary>Every entry, checked cheaply (header and length), or fully (checksum) when <paramref name="verify"/>.</summary>
    Task<IReadOnlyList<BackendEntry>> ListAsync(bool verify, CancellationToken cancellationToken);

    /// <summary>Records that the entry was used (for "last used" in listings).</summary>
    Task TouchAsync(string tileId, DateTimeOffset when, CancellationToken cancellationToken);

    /// <summary>Whether the store answers now (bounded in time), for /readyz.</summary>
    Task<BackendHealth> CheckAsync(CancellationToken cancellationToken) => Task.FromResult(new BackendHealth(Name, true, Name));

    /// <summary>
    /// Takes the lock under which one process computes a missing tile, waiting while another
    /// replica holds it (at most the lock's lifetime); dispose to release it. Null when the
    /// backend has no such lock: then each process computes at most once (its own single-flight).
    /// </summary>
    Task<IAsyncDisposable?> LockForComputeAsync(string tileId, CancellationToken cancellationToken) => Task.FromResult<IAsyncDisposable?>(null);
}
