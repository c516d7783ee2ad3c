using Microsoft.Extensions.Options;

namespace S2CloudMask.Api.Geomedians;

/// <summary>
/// One file per tile, <c>{Cache:Directory}/geomedians/{tileId}.s2gm</c>. Files are written to a
/// temporary name in the same folder, flushed to the device, then renamed over the old one, so
/// a reader (this replica, another one on a shared volume, or the service after a crash) sees
/// either the old file or the new one, never half of one. Leftover temporary files from a
/// crash are removed at start-up. Last use is recorded as the file's access time.
/// </summary>
public sealed partial class DiskGeomedianBackend : IGeomedianBackend
{
    private const string Extension = ".s2gm";
    private const string TempExtension = ".tmp";

    private readonly ILogger<DiskGeomedianBackend> _logger;

    public DiskGeomedianBackend(IOptions<CacheOptions> options, ILogger<DiskGeomedianBackend> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        Folder = Path.GetFullPath(Path.Combine(options.Value.EffectiveDirectory, "geomedians"));
        Directory.CreateDirectory(Folder);
        foreach (var stale in Directory.EnumerateFiles(Folder, "*" + TempExtension))
        {
            TryDelete(stale);
        }
    }

    public string Name => "disk";

    public string Folder { get; }

    /// <summary>The file of a tile; the ID is validated again so no caller can name a path outside the folder.</summary>
    public string PathOf(string tileId) => Path.Combine(Folder, TileIds.Validate(tileId) + Extension);

    public async Task<string?> GetVersionAsync(string tileId, CancellationToken cancellationToken)
    {
        var path = PathOf(tileId);
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: false);
            if (stream.Length < GeomedianFormat.ChecksumLength)
            {
                return "truncated";
            }

            // The checksum names the content; length and modification time catch a file damaged
            // in place (the checksum at its end unchanged), so the memory copy is re-verified.
            stream.Seek(-GeomedianFormat.ChecksumLength, SeekOrigin.End);
            var trailer = new byte[GeomedianFormat.ChecksumLength];
            await stream.ReadExactlyAsync(trailer, cancellationToken);
            var modified = File.GetLastWriteTimeUtc(path).Ticks;
            return $"{GeomedianFormat.ChecksumHex(trailer)}:{stream.Length}:{modified}";
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task<StoredGeomedian?> ReadAsync(string tileId, CancellationToken cancellationToken)
    {
        var path = PathOf(tileId);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
            return Task.FromResult<StoredGeomedian?>(GeomedianFormat.Read(stream, tileId));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<StoredGeomedian?>(null);
        }
    }

    public async Task WriteAsync(StoredGeomedian geomedian, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(geomedian);
        var path = PathOf(geomedian.TileId);
        var temp = Path.Combine(Folder, $".{geomedian.TileId}.{Guid.NewGuid():N}{TempExtension}");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                GeomedianFormat.Write(stream, geomedian);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public Task<bool> DeleteAsync(string tileId, CancellationToken cancellationToken)
    {
        var path = PathOf(tileId);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        File.Delete(path);
        return Task.FromResult(true);
    }

    public Task<IReadOnlyList<BackendEntry>> ListAsync(bool verify, CancellationToken cancellationToken)
    {
        var entries = new List<BackendEntry>();
        foreach (var path in Directory.EnumerateFiles(Folder, "*" + Extension))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var tileId = Path.GetFileNameWithoutExtension(path);
            if (!TileIds.IsValid(tileId))
            {
                continue;
            }

            try
            {
                var info = new FileInfo(path);
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
                GeomedianHeader header;
                if (verify)
                {
                    var g = GeomedianFormat.Read(stream, tileId);
                    header = new GeomedianHeader(
                        g.TileId, g.Height, g.Width, g.Bands, g.Georeference?.GeoTransform, g.Georeference?.ProjectionWkt, g.CreatedUtc, g.Source, g.Summary);
                }
                else
                {
                    header = GeomedianFormat.ReadHeaderOnly(stream, tileId);
                }

                entries.Add(new BackendEntry(tileId, header, info.Length, info.LastAccessTimeUtc, null));
            }
            catch (CorruptGeomedianException e)
            {
                entries.Add(new BackendEntry(tileId, null, 0, null, e.Reason));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Deleted while listing.
            }
        }

        return Task.FromResult<IReadOnlyList<BackendEntry>>(entries);
    }

    public Task TouchAsync(string tileId, DateTimeOffset when, CancellationToken cancellationToken)
    {
        try
        {
            File.SetLastAccessTimeUtc(PathOf(tileId), when.UtcDateTime);
        }
        catch (IOException e)
        {
            // Only bookkeeping: a read-only or vanished file must not fail the request.
            LogTouchFailed(_logger, tileId, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            LogTouchFailed(_logger, tileId, e.Message);
        }

        return Task.CompletedTask;
    }

    public Task<BackendHealth> CheckAsync(CancellationToken cancellationToken) =>
        Task.FromResult(
            Directory.Exists(Folder)
                ? new BackendHealth(Name, true, $"disk folder {Folder}")
                : new BackendHealth(Name, false, $"the disk folder {Folder} is missing"));

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not record the last use of geomedian {TileId}: {Reason}")]
    private static partial void LogTouchFailed(ILogger logger, string tileId, string reason);
}
