namespace S2CloudMask.Engine.Gdal;

/// <summary>
/// Bytes exposed to GDAL as a file under /vsimem/ (e.g. an uploaded GeoTIFF body), so that
/// <c>GdalDataset.Open(file.Path)</c> reads them without touching disk. Dispose unlinks it.
/// </summary>
/// <remarks>
/// The bytes are copied once into a buffer allocated with VSIMalloc whose ownership passes to
/// GDAL. GDAL frees it when the file is unlinked and the last handle on it is closed, so a
/// dataset still open on the path after Dispose keeps reading valid memory (the file is just
/// no longer reachable by name). Thread-safe: /vsimem/ is guarded by GDAL's own lock.
/// </remarks>
public sealed unsafe class VsiMemFile : IDisposable
{
    private const string VsiRoot = "/vsimem/s2cloudmask/files";

    // 1 until the file exists, so a constructor that throws leaves nothing for the finalizer.
    private int _disposed = 1;

    /// <param name="data">The file's content (copied).</param>
    /// <param name="extension">Appended to the generated name, e.g. ".tif"; some drivers look at it.</param>
    public VsiMemFile(ReadOnlySpan<byte> data, string extension = "")
    {
        ArgumentNullException.ThrowIfNull(extension);
        if (extension.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException("an extension cannot contain '/'", nameof(extension));
        }

        Gdal.Initialize();
        Path = $"{VsiRoot}/{Guid.NewGuid():N}{extension}";
        Length = data.Length;

        // VSIMalloc(0) may return NULL; a one-byte buffer with length 0 is an empty file.
        var buffer = (byte*)GdalNative.VSIMalloc((nuint)Math.Max(data.Length, 1));
        if (buffer is null)
        {
            throw new OutOfMemoryException($"VSIMalloc of {data.Length} bytes for {Path} failed");
        }

        data.CopyTo(new Span<byte>(buffer, data.Length));
        GdalErrors.Reset();
        var file = GdalNative.VSIFileFromMemBuffer(Path, buffer, (ulong)data.Length, takeOwnership: 1);
        if (file == IntPtr.Zero)
        {
            GdalNative.VSIFree(buffer);
            throw GdalErrors.Last($"creating {Path}");
        }

        // The returned handle only has to be closed; the file stays until VSIUnlink.
        GdalNative.VSIFCloseL(file);
        _disposed = 0;
    }

    /// <inheritdoc cref="VsiMemFile(ReadOnlySpan{byte}, string)"/>
    public VsiMemFile(ReadOnlyMemory<byte> data, string extension = "")
        : this(data.Span, extension)
    {
    }

    /// <inheritdoc cref="VsiMemFile(ReadOnlySpan{byte}, string)"/>
    public VsiMemFile(byte[] data, string extension = "")
        : this(new ReadOnlySpan<byte>(data ?? throw new ArgumentNullException(nameof(data))), extension)
    {
    }

    ~VsiMemFile() => Unlink();

    /// <summary>The /vsimem/ path to hand to GDAL.</summary>
    public string Path { get; }

    public long Length { get; }

    public void Dispose()
    {
        Unlink();
        GC.SuppressFinalize(this);
    }

    public override string ToString() => Path;

    /// <summary>True while a /vsimem/ file exists at <paramref name="path"/> (for tests and diagnostics).</summary>
    internal static bool Exists(string path)
    {
        ulong length;
        return GdalNative.VSIGetMemFileBuffer(path, &length, 0) is not null;
    }

    /// <summary>Every file below a /vsimem/ folder, relative to it (for tests and diagnostics).</summary>
    internal static IReadOnlyList<string> List(string folder)
    {
        var list = GdalNative.VSIReadDirRecursive(folder);
        var names = new List<string>();
        if (list is null)
        {
            return names;
        }

        try
        {
            for (var p = list; *p is not null; p++)
            {
                names.Add(GdalNative.Str(*p)!);
            }
        }
        finally
        {
            GdalNative.CSLDestroy(list);
        }

        return names;
    }

    private void Unlink()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            GdalNative.VSIUnlink(Path);
        }
    }
}
