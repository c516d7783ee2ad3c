using System.ComponentModel.DataAnnotations;

namespace S2CloudMask.Api.Remote;

/// <summary>Section <c>Remote</c>: which COG / STAC URLs the service may read, and how patiently.</summary>
public sealed class RemoteOptions
{
    public const string Section = "Remote";

    /// <summary>
    /// URL prefixes the service may read (compared with the normalised URL, case-insensitively;
    /// end each with "/" so "https://a.example" does not also allow "https://a.example.evil");
    /// empty = any public host.
    /// </summary>
    public List<string> AllowedPrefixes { get; set; } = [];

    /// <summary>Allow loopback, link-local and private addresses (development and tests only).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Timeout of each remote request (connect and each read), in seconds.</summary>
    [Range(1, 3600)]
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// The most a whole remote read (every file, every tile, retries included) may take, in
    /// seconds; beyond it the request gets 504 <c>remote-timeout</c>.
    /// </summary>
    [Range(1, 86400)]
    public int ReadTimeoutSeconds { get; set; } = 300;

    /// <summary>Retries of a request answered 5xx, with doubling delays from <see cref="RetryDelaySeconds"/>.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    [Range(0, 60)]
    public double RetryDelaySeconds { get; set; } = 0.5;

    /// <summary>GDAL's VSI_CACHE_SIZE: bytes of remote file blocks cached per open file.</summary>
    [Range(0, long.MaxValue)]
    public long VsiCacheBytes { get; set; } = 64L << 20;
}
