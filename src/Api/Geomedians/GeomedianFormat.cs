using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using S2CloudMask.Api.Masks;

namespace S2CloudMask.Api.Geomedians;

/// <summary>The header of a stored geomedian (JSON inside the file).</summary>
public sealed record GeomedianHeader(
    string TileId,
    int Height,
    int Width,
    int Bands,
    double[]? GeoTransform,
    string? ProjectionWkt,
    DateTimeOffset CreatedUtc,
    string Source,
    GeomedianSummary? Summary);

/// <summary>
/// The cache's file format, the same on disk and in Redis:
/// <c>"S2CMGM01"</c>, int32 LE header length, the header as UTF-8 JSON, the pixels as float32
/// LE, then the SHA-256 of everything before it. The trailing checksum covers the header too,
/// so a truncated, bit-flipped or half-written file is detected before anything is served, and
/// its last 32 bytes are the file's version for cheap "did it change" checks.
/// </summary>
public static class GeomedianFormat
{
    public const int ChecksumLength = 32;

    private const int MaxHeaderBytes = 1 << 20;

    private static ReadOnlySpan<byte> Magic => "S2CMGM01"u8;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Writes the geomedian and returns its checksum (hex), also set on <paramref name="geomedian"/>.</summary>
    public static string Write(Stream stream, StoredGeomedian geomedian)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(geomedian);
        var header = JsonSerializer.SerializeToUtf8Bytes(
            new GeomedianHeader(
                geomedian.TileId,
                geomedian.Height,
                geomedian.Width,
                geomedian.Bands,
                geomedian.Georeference?.GeoTransform,
                geomedian.Georeference?.ProjectionWkt,
                geomedian.CreatedUtc,
                geomedian.Source,
                geomedian.Summary),
            Json);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, header.Length);
        foreach (var part in new[] { Magic.ToArray(), length.ToArray(), header })
        {
            stream.Write(part);
            hash.AppendData(part);
        }

        // float32 little-endian is the in-memory layout on every platform .NET runs this on.
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("the geomedian cache needs a little-endian machine");
        }

        stream.Write(geomedian.Data);
        hash.AppendData(geomedian.Data);
        var checksum = hash.GetHashAndReset();
        stream.Write(checksum);
        geomedian.Checksum = Convert.ToHexStringLower(checksum);
        return geomedian.Checksum;
    }

    public static byte[] ToBytes(StoredGeomedian geomedian)
    {
        using var ms = new MemoryStream();
        Write(ms, geomedian);
        return ms.ToArray();
    }

    /// <summary>Reads and verifies a whole file; throws <see cref="CorruptGeomedianException"/> on any inconsistency.</summary>
    public static StoredGeomedian Read(Stream stream, string tileId)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var (header, headerBytes) = ReadHeader(stream, tileId, hash);
        var payload = PayloadBytes(header, tileId);
        if (stream.CanSeek && stream.Length - stream.Position != payload + ChecksumLength)
        {
            throw new CorruptGeomedianException(
                tileId, $"the file holds {stream.Length} bytes, its header promises {12 + headerBytes + payload + ChecksumLength}");
        }

        var data = new byte[payload];
        ReadExactly(stream, data, tileId, "pixels");
        hash.AppendData(data);
        var expected = new byte[ChecksumLength];
        ReadExactly(stream, expected, tileId, "checksum");
        var actual = hash.GetHashAndReset();
        if (!CryptographicOperations.FixedTimeEquals(actual, expected))
        {
            throw new CorruptGeomedianException(tileId, "SHA-256 checksum mismatch");
        }

        if (!stream.CanSeek && stream.ReadByte() != -1)
        {
            throw new CorruptGeomedianException(tileId, "bytes after the checksum");
        }

        return new StoredGeomedian
        {
            TileId = header.TileId,
            Height = header.Height,
            Width = header.Width,
            Bands = header.Bands,
            Data = data,
            Georeference = header.GeoTransform is null && string.IsNullOrEmpty(header.ProjectionWkt)
                ? null
                : new Georeference(header.GeoTransform, header.ProjectionWkt),
            CreatedUtc = header.CreatedUtc,
            Source = header.Source,
            Summary = header.Summary,
            Checksum = Convert.ToHexStringLower(actual),
        };
    }

    public static StoredGeomedian Read(byte[] bytes, string tileId)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        return Read(ms, tileId);
    }

    /// <summary>
    /// Only the header and a length check (no checksum): what a listing can afford for every
    /// file. Returns the header, or throws <see cref="CorruptGeomedianException"/>.
    /// </summary>
    public static GeomedianHeader ReadHeaderOnly(Stream stream, string tileId)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (header, headerBytes) = ReadHeader(stream, tileId, null);
        var expected = 12 + headerBytes + PayloadBytes(header, tileId) + ChecksumLength;
        if (stream.CanSeek && stream.Length != expected)
        {
            throw new CorruptGeomedianException(tileId, $"the file holds {stream.Length} bytes, its header promises {expected} (truncated?)");
        }

        return header;
    }

    /// <summary>
    /// The header of an entry of <paramref name="totalLength"/> bytes from its first bytes
    /// (<paramref name="prefix"/>, at least <see cref="HeaderEnd"/> of them), with the same
    /// length check as <see cref="ReadHeaderOnly(Stream, string)"/>: for stores that can read a
    /// range (Redis GETRANGE) without fetching the pixels.
    /// </summary>
    public static GeomedianHeader ReadHeaderOnly(byte[] prefix, long totalLength, string tileId)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        using var stream = new MemoryStream(prefix, writable: false);
        var (header, headerBytes) = ReadHeader(stream, tileId, null);
        var expected = 12 + headerBytes + PayloadBytes(header, tileId) + ChecksumLength;
        if (totalLength != expected)
        {
            throw new CorruptGeomedianException(tileId, $"the entry holds {totalLength} bytes, its header promises {expected} (truncated?)");
        }

        return header;
    }

    /// <summary>How many leading bytes hold the signature, header length and header; null when fewer than 12 bytes are given.</summary>
    public static long? HeaderEnd(ReadOnlySpan<byte> prefix) =>
        prefix.Length < 12 ? null : 12L + Math.Max(0, BinaryPrimitives.ReadInt32LittleEndian(prefix[8..12]));

    private static (GeomedianHeader Header, int Bytes) ReadHeader(Stream stream, string tileId, IncrementalHash? hash)
    {
        var prefix = new byte[12];
        ReadExactly(stream, prefix, tileId, "signature");
        if (!prefix.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new CorruptGeomedianException(tileId, "not a geomedian cache file (bad signature)");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(prefix.AsSpan(8));
        if (length is <= 0 or > MaxHeaderBytes)
        {
            throw new CorruptGeomedianException(tileId, $"implausible header length {length}");
        }

        var bytes = new byte[length];
        ReadExactly(stream, bytes, tileId, "header");
        hash?.AppendData(prefix);
        hash?.AppendData(bytes);
        GeomedianHeader? header;
        try
        {
            header = JsonSerializer.Deserialize<GeomedianHeader>(bytes, Json);
        }
        catch (JsonException e)
        {
            throw new CorruptGeomedianException(tileId, "unreadable header: " + e.Message);
        }

        if (header is null || header.TileId != tileId || header.Height <= 0 || header.Width <= 0 || header.Bands <= 0 || header.Source is null)
        {
            throw new CorruptGeomedianException(tileId, "inconsistent header");
        }

        return (header, length);
    }

    private static long PayloadBytes(GeomedianHeader header, string tileId)
    {
        var payload = (long)header.Height * header.Width * header.Bands * sizeof(float);
        return payload > Array.MaxLength
            ? throw new CorruptGeomedianException(tileId, $"header claims {payload} bytes of pixels")
            : payload;
    }

    private static void ReadExactly(Stream stream, byte[] buffer, string tileId, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw new CorruptGeomedianException(tileId, $"truncated (the file ends inside the {what})");
        }
    }

    /// <summary>The entry's version: the checksum in the last 32 bytes, as hex.</summary>
    public static string ChecksumHex(ReadOnlySpan<byte> trailer) => Convert.ToHexStringLower(trailer);
}
