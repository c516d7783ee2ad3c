namespace S2CloudMask.Api.Geomedians;

/// <summary>Placeholder until the Redis backend lands: Cache:Redis set means this one.</summary>
public sealed class RedisGeomedianBackend : IGeomedianBackend
{
    public RedisGeomedianBackend() => throw new NotSupportedException("Cache:Redis is not supported yet");

    public string Name => "redis";

    public Task<string?> GetVersionAsync(string tileId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<StoredGeomedian?> ReadAsync(string tileId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task WriteAsync(StoredGeomedian geomedian, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> DeleteAsync(string tileId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<BackendEntry>> ListAsync(bool verify, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task TouchAsync(string tileId, DateTimeOffset when, CancellationToken cancellationToken) => throw new NotSupportedException();
}
