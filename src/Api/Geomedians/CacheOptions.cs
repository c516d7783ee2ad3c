using System.ComponentModel.DataAnnotations;

namespace S2CloudMask.Api.Geomedians;

/// <summary>Section <c>Cache</c>: where geomedians are kept between requests and restarts.</summary>
public sealed class CacheOptions
{
    public const string Section = "Cache";

    /// <summary>
    /// Folder of the on-disk cache (the helm chart mounts a volume at /var/cache/s2cloudmask);
    /// empty = a folder "s2cloudmask-cache" under the system's temporary folder.
    /// </summary>
    public string Directory { get; set; } = "";

    /// <summary>Bytes of geomedian pixels kept in memory (LRU) in front of the disk or Redis; 0 = none.</summary>
    [Range(0, long.MaxValue)]
    public long MaxMemoryBytes { get; set; } = 512L << 20;

    /// <summary>
    /// StackExchange.Redis connection string of a store shared by replicas ("redis:6379",
    /// "host:6379,password=...,ssl=true"); empty = off (disk only). When set, Redis replaces the
    /// disk folder as the persistent store (the memory LRU stays in front). Unless the string
    /// says otherwise: connectTimeout=3000, syncTimeout=asyncTimeout=10000 (ms); always
    /// abortConnect=false and fail-fast while disconnected, so a request never waits on a Redis
    /// that is down.
    /// </summary>
    public string Redis { get; set; } = "";

    /// <summary>Prefix of every Redis key ("{prefix}:geomedian:{tileId}", ...), so deployments can share one Redis.</summary>
    [RegularExpression("^[A-Za-z0-9_.:-]{1,64}$")]
    public string RedisKeyPrefix { get; set; } = "s2cloudmask";

    /// <summary>
    /// Lifetime (renewed while the computation runs) of the Redis lock that lets one replica
    /// compute a missing tile while the others wait for it; 0 = no cross-replica lock (each
    /// replica computes at most once).
    /// </summary>
    [Range(0, 3600)]
    public int RedisLockSeconds { get; set; } = 120;

    /// <summary>Largest geomedian file stored in Redis (Redis refuses strings over 512 MiB by default).</summary>
    [Range(1024, long.MaxValue)]
    public long RedisMaxValueBytes { get; set; } = 512L << 20;

    public string EffectiveDirectory =>
        string.IsNullOrWhiteSpace(Directory) ? Path.Combine(Path.GetTempPath(), "s2cloudmask-cache") : Directory;
}
