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

    /// <summary>StackExchange.Redis connection string of a cache shared by replicas; empty = off (disk only).</summary>
    public string Redis { get; set; } = "";

    public string EffectiveDirectory =>
        string.IsNullOrWhiteSpace(Directory) ? Path.Combine(Path.GetTempPath(), "s2cloudmask-cache") : Directory;
}
