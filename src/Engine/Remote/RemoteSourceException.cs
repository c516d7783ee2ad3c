namespace S2CloudMask.Engine.Remote;

/// <summary>Why reading a remote raster failed; the service maps each to an HTTP status.</summary>
public enum RemoteFailure
{
    /// <summary>The URL is not allowed by the policy (scheme, host, private address, allow-list).</summary>
    NotAllowed,

    /// <summary>No connection (DNS failure, refused, reset).</summary>
    Unreachable,

    /// <summary>The server answered 404 or 410.</summary>
    NotFound,

    /// <summary>The server refused access (401, 403).</summary>
    Forbidden,

    /// <summary>The server kept answering 5xx after the retries.</summary>
    ServerError,

    /// <summary>No answer within the timeout.</summary>
    Timeout,

    /// <summary>The content is not a (Cloud-Optimized) GeoTIFF GDAL can read.</summary>
    NotATiff,

    /// <summary>The sources cannot be combined as asked (CRS mismatch, bbox outside, wrong band count, bad STAC item).</summary>
    Unusable,

    /// <summary>GDAL failed while reading pixels.</summary>
    ReadFailed,
}

/// <summary>
/// A remote source could not be used. <see cref="Url"/> is already redacted (no query string,
/// no user info), and so is the message: query strings often carry credentials (signed URLs).
/// </summary>
public sealed class RemoteSourceException(RemoteFailure failure, string url, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public RemoteFailure Failure { get; } = failure;

    /// <summary>The source's URL without query string, fragment or user info.</summary>
    public string Url { get; } = url;
}
