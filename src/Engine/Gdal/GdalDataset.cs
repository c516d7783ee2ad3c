namespace S2CloudMask.Engine.Gdal;

/// <summary>
/// A GDAL raster dataset (GDALDatasetH). Bands are numbered from 1, as in GDAL. Windows are
/// (xOff, yOff, xSize, ySize) in pixels of the full-resolution raster; reading one into a
/// smaller buffer lets GDAL pick an overview and resample with the chosen algorithm.
/// </summary>
/// <remarks>
/// Not thread-safe: GDAL forbids using one dataset handle from two threads at once (block
/// cache and file position are per handle). Give each worker its own dataset (opening the same
/// path or <c>/vsimem/</c> file again is cheap) or serialise access. Disposing closes the
/// handle (GDALClose); the finalizer does so too if Dispose is forgotten.
/// </remarks>
public sealed unsafe class GdalDataset : IDisposable
{
    private const string VsiRoot = "/vsimem/s2cloudmask/encode";

    private readonly DatasetHandle _handle;
    private readonly bool _writable;

    private GdalDataset(DatasetHandle handle, string path, bool writable)
    {
        _handle = handle;
        _writable = writable;
        Path = path;
        Width = GdalNative.GDALGetRasterXSize(handle.DangerousGetHandle());
        Height = GdalNative.GDALGetRasterYSize(handle.DangerousGetHandle());
        BandCount = GdalNative.GDALGetRasterCount(handle.DangerousGetHandle());
    }

    /// <summary>What was opened (file, URL, /vsi path); empty for an in-memory dataset.</summary>
    public string Path { get; }

    public int Width { get; }

    public int Height { get; }

    public int BandCount { get; }

    /// <summary>The driver's short name: "GTiff", "COG" datasets open as "GTiff", "PNG", "MEM", …</summary>
    public string DriverName
    {
        get
        {
            using var ds = Lease();
            return GdalNative.Str(GdalNative.GDALGetDriverShortName(GdalNative.GDALGetDatasetDriver(ds.Value))) ?? "";
        }
    }

    /// <summary>The dataset's CRS as WKT; empty when it has none. Setting it needs a writable dataset.</summary>
    public string ProjectionWkt
    {
        get
        {
            using var ds = Lease();
            return GdalNative.Str(GdalNative.GDALGetProjectionRef(ds.Value)) ?? "";
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            EnsureWritable("set the projection of");
            using var ds = Lease();
            GdalErrors.Reset();
            GdalErrors.Check(GdalNative.GDALSetProjection(ds.Value, value), $"setting the projection of {Name}");
        }
    }

    private string Name => Path.Length == 0 ? "an in-memory dataset" : $"'{Path}'";

    /// <summary>
    /// Opens a raster read-only (GDALOpenEx with GDAL_OF_RASTER), letting any installed driver
    /// claim it. <paramref name="openOptions"/> are driver open options as "KEY=VALUE". Throws
    /// <see cref="GdalException"/> naming the path when GDAL cannot open it.
    /// </summary>
    public static GdalDataset Open(string path, params IEnumerable<string> openOptions) =>
        Open(path, [], openOptions);

    /// <summary>
    /// Opens a raster read-only with only the named drivers, e.g. ["GTiff"] for uploaded bodies:
    /// with all drivers, bytes starting "GIF89a" go to the GIF driver and a VRT can point GDAL at
    /// local files. GTiff also reads COGs ("COG" is a write-only driver). An empty list allows all.
    /// </summary>
    public static GdalDataset Open(
        string path, IReadOnlyCollection<string> allowedDrivers, params IEnumerable<string> openOptions)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(allowedDrivers);
        Gdal.Initialize();
        using var drivers = new Utf8List(allowedDrivers);
        using var options = new Utf8List(openOptions);
        GdalErrors.Reset();

        // VERBOSE_ERROR makes GDAL say why it failed ("not recognized as a supported file
        // format"); without it a failed open is silent.
        var handle = GdalNative.GDALOpenEx(
            path,
            GdalNative.GDAL_OF_READONLY | GdalNative.GDAL_OF_RASTER | GdalNative.GDAL_OF_VERBOSE_ERROR,
            drivers.Pointer,
            options.Pointer,
            null);
        if (handle == IntPtr.Zero)
        {
            throw GdalErrors.Last($"opening '{path}'");
        }

        return new GdalDataset(new DatasetHandle(handle), path, writable: false);
    }

    /// <summary>
    /// Creates a writable raster file with a driver that supports direct creation (e.g. GTiff
    /// with TILED=YES, COMPRESS=DEFLATE), so a large output can be written block by block.
    /// </summary>
    public static GdalDataset Create(string path, string driver, int width, int height, int bands, GdalDataType type, params IEnumerable<string> creationOptions)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bands);
        Gdal.Initialize();
        GdalErrors.Reset();
        using var options = new Utf8List(creationOptions);
        var handle = GdalNative.GDALCreate(Driver(driver), path, width, height, bands, (int)type, options.Pointer);
        if (handle == IntPtr.Zero)
        {
            throw GdalErrors.Last($"creating '{path}' ({driver}, {width}x{height}x{bands} {type})");
        }

        return new GdalDataset(new DatasetHandle(handle), path, writable: true);
    }

    /// <summary>Creates a writable raster in memory (MEM driver), initialised to zero.</summary>
    public static GdalDataset CreateInMemory(int width, int height, int bands, GdalDataType type)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bands);
        if (type == GdalDataType.Unknown || !Enum.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "not a GDAL data type");
        }

        Gdal.Initialize();
        GdalErrors.Reset();
        var driver = Driver("MEM");
        var handle = GdalNative.GDALCreate(driver, "", width, height, bands, (int)type, null);
        if (handle == IntPtr.Zero)
        {
            throw GdalErrors.Last($"creating an in-memory {width}x{height}x{bands} {type} raster");
        }

        return new GdalDataset(new DatasetHandle(handle), "", writable: true);
    }

    public GdalDataType DataType(int band)
    {
        using var ds = Lease();
        return (GdalDataType)GdalNative.GDALGetRasterDataType(Band(ds.Value, band));
    }

    /// <summary>The six affine coefficients (GDAL order: x0, dx/dcol, dx/drow, y0, dy/dcol, dy/drow), or null when none is set.</summary>
    public double[]? GetGeoTransform()
    {
        using var ds = Lease();
        var transform = new double[6];
        fixed (double* p = transform)
        {
            // Failure here only means "none set"; GDAL fills in the identity and raises nothing.
            return GdalNative.GDALGetGeoTransform(ds.Value, p) == GdalNative.CE_None ? transform : null;
        }
    }

    public void SetGeoTransform(ReadOnlySpan<double> transform)
    {
        if (transform.Length != 6)
        {
            throw new ArgumentException($"a geotransform has 6 coefficients, got {transform.Length}", nameof(transform));
        }

        EnsureWritable("set the geotransform of");
        using var ds = Lease();
        fixed (double* p = transform)
        {
            GdalErrors.Reset();
            GdalErrors.Check(GdalNative.GDALSetGeoTransform(ds.Value, p), $"setting the geotransform of {Name}");
        }
    }

    /// <summary>The CRS as a <see cref="SpatialReference"/> (GIS axis order), or null when the dataset has none.</summary>
    public SpatialReference? GetSpatialReference()
    {
        var wkt = ProjectionWkt;
        return wkt.Length == 0 ? null : SpatialReference.FromWkt(wkt);
    }

    public double? GetNoData(int band)
    {
        using var ds = Lease();
        int ok;
        var value = GdalNative.GDALGetRasterNoDataValue(Band(ds.Value, band), &ok);
        return ok != 0 ? value : null;
    }

    public void SetNoData(int band, double value)
    {
        EnsureWritable("set nodata on");
        using var ds = Lease();
        GdalErrors.Reset();
        GdalErrors.Check(
            GdalNative.GDALSetRasterNoDataValue(Band(ds.Value, band), value), $"setting nodata of band {band} of {Name}");
    }

    public int OverviewCount(int band)
    {
        using var ds = Lease();
        return GdalNative.GDALGetOverviewCount(Band(ds.Value, band));
    }

    /// <summary>The natural block (tile or strip) size: reads aligned to it are cheapest.</summary>
    public (int Width, int Height) BlockSize(int band)
    {
        using var ds = Lease();
        int x, y;
        GdalNative.GDALGetBlockSize(Band(ds.Value, band), &x, &y);
        return (x, y);
    }

    public string GetDescription(int band)
    {
        using var ds = Lease();
        return GdalNative.Str(GdalNative.GDALGetDescription(Band(ds.Value, band))) ?? "";
    }

    /// <summary>Names a band (GeoTIFF stores it; e.g. "B02" or "cloud probability").</summary>
    public void SetDescription(int band, string description)
    {
        ArgumentNullException.ThrowIfNull(description);
        EnsureWritable("set a band description on");
        using var ds = Lease();
        GdalNative.GDALSetDescription(Band(ds.Value, band), description);
    }

    /// <summary>The band's palette as RGBA entries, or null when it has none.</summary>
    public IReadOnlyList<(byte R, byte G, byte B, byte A)>? GetColorTable(int band)
    {
        using var ds = Lease();
        var table = GdalNative.GDALGetRasterColorTable(Band(ds.Value, band));
        if (table == IntPtr.Zero)
        {
            return null;
        }

        var count = GdalNative.GDALGetColorEntryCount(table);
        var colors = new (byte R, byte G, byte B, byte A)[count];
        for (var i = 0; i < count; i++)
        {
            var e = GdalNative.GDALGetColorEntry(table, i);
            colors[i] = ((byte)e->C1, (byte)e->C2, (byte)e->C3, (byte)e->C4);
        }

        return colors;
    }

    /// <summary>Gives the band an RGBA palette (entry i colours value i) and marks it palette-indexed.</summary>
    public void SetColorTable(int band, IReadOnlyList<(byte R, byte G, byte B, byte A)> colors)
    {
        ArgumentNullException.ThrowIfNull(colors);
        EnsureWritable("set a colour table on");
        using var ds = Lease();
        var b = Band(ds.Value, band);
        var table = GdalNative.GDALCreateColorTable(GdalNative.GPI_RGB);
        try
        {
            for (var i = 0; i < colors.Count; i++)
            {
                var (r, g, bl, a) = colors[i];
                var entry = new GdalNative.ColorEntry { C1 = r, C2 = g, C3 = bl, C4 = a };
                GdalNative.GDALSetColorEntry(table, i, &entry);
            }

            GdalErrors.Reset();
            GdalErrors.Check(GdalNative.GDALSetRasterColorTable(b, table), $"setting the colour table of band {band} of {Name}");
            GdalErrors.Check(
                GdalNative.GDALSetRasterColorInterpretation(b, GdalNative.GCI_PaletteIndex),
                $"marking band {band} of {Name} as palette-indexed");
        }
        finally
        {
            // GDALSetRasterColorTable copies the table.
            GdalNative.GDALDestroyColorTable(table);
        }
    }

    /// <summary>Reads a window of one band at full resolution into <paramref name="dest"/> (row-major, xSize*ySize).</summary>
    public void Read<T>(int band, int xOff, int yOff, int xSize, int ySize, Span<T> dest)
        where T : unmanaged =>
        Read(band, xOff, yOff, xSize, ySize, dest, xSize, ySize);

    /// <summary>
    /// Reads a window of one band into a bufWidth x bufHeight row-major buffer, converting to
    /// <typeparamref name="T"/> and resampling (from an overview when one fits) when the sizes differ.
    /// </summary>
    public void Read<T>(
        int band, int xOff, int yOff, int xSize, int ySize, Span<T> dest, int bufWidth, int bufHeight,
        Resampling resampling = Resampling.Nearest)
        where T : unmanaged
    {
        var type = GdalTypes.Of<T>();
        CheckWindow(xOff, yOff, xSize, ySize);
        CheckBuffer(dest.Length, bufWidth, bufHeight, 1, resampling);
        using var ds = Lease();
        var b = Band(ds.Value, band);
        var extra = GdalNative.RasterIOExtraArg.Create(resampling);
        fixed (T* p = dest)
        {
            GdalErrors.Reset();
            var err = GdalNative.GDALRasterIOEx(
                b, GdalNative.GF_Read, xOff, yOff, xSize, ySize, p, bufWidth, bufHeight, (int)type, 0, 0, &extra);
            GdalErrors.Check(err, $"reading band {band} window ({xOff}, {yOff}, {xSize}x{ySize}) of {Name}");
        }
    }

    /// <summary>
    /// Reads a window given in fractional pixels (GDALRasterIOExtraArg's floating-point window)
    /// of one band into a bufWidth x bufHeight buffer, resampling with <paramref name="resampling"/>.
    /// Used to put a band of one grid onto another whose origin falls between its pixels (a 20 m
    /// band read onto a 10 m grid that starts on an odd 10 m column): the integer window GDAL
    /// also needs is the smallest one holding the fractional window, clamped to the raster.
    /// </summary>
    public void ReadWindow<T>(
        int band, double xOff, double yOff, double xSize, double ySize, Span<T> dest, int bufWidth, int bufHeight,
        Resampling resampling)
        where T : unmanaged
    {
        var type = GdalTypes.Of<T>();
        if (!(xSize > 0) || !(ySize > 0) || !double.IsFinite(xOff) || !double.IsFinite(yOff))
        {
            throw new ArgumentOutOfRangeException(nameof(xSize), $"window ({xOff}, {yOff}, {xSize}x{ySize}) is empty or not finite");
        }

        var x0 = Math.Clamp((int)Math.Floor(xOff + 1e-9), 0, Width - 1);
        var y0 = Math.Clamp((int)Math.Floor(yOff + 1e-9), 0, Height - 1);
        var x1 = Math.Clamp((int)Math.Ceiling(xOff + xSize - 1e-9), x0 + 1, Width);
        var y1 = Math.Clamp((int)Math.Ceiling(yOff + ySize - 1e-9), y0 + 1, Height);
        CheckBuffer(dest.Length, bufWidth, bufHeight, 1, resampling);
        using var ds = Lease();
        var b = Band(ds.Value, band);
        var extra = GdalNative.RasterIOExtraArg.Create(resampling);
        extra.FloatingPointWindowValidity = 1;
        extra.XOff = Math.Max(0, xOff);
        extra.YOff = Math.Max(0, yOff);
        extra.XSize = Math.Min(xSize, Width - extra.XOff);
        extra.YSize = Math.Min(ySize, Height - extra.YOff);
        fixed (T* p = dest)
        {
            GdalErrors.Reset();
            var err = GdalNative.GDALRasterIOEx(
                b, GdalNative.GF_Read, x0, y0, x1 - x0, y1 - y0, p, bufWidth, bufHeight, (int)type, 0, 0, &extra);
            GdalErrors.Check(err, $"reading band {band} window ({xOff:0.###}, {yOff:0.###}, {xSize:0.###}x{ySize:0.###}) of {Name}");
        }
    }

    /// <summary>
    /// Reads a window of several bands into <paramref name="dest"/> in band-sequential order
    /// (band, y, x): band i of <paramref name="bands"/> fills dest[i*bufWidth*bufHeight ..].
    /// </summary>
    public void ReadBands<T>(
        ReadOnlySpan<int> bands, int xOff, int yOff, int xSize, int ySize, Span<T> dest, int bufWidth, int bufHeight,
        Resampling resampling = Resampling.Nearest)
        where T : unmanaged
    {
        CheckBuffer(dest.Length, bufWidth, bufHeight, bands.Length, resampling);
        ReadBands(bands, xOff, yOff, xSize, ySize, dest, bufWidth, bufHeight, 1, bufWidth, (long)bufWidth * bufHeight, resampling);
    }

    /// <summary>
    /// Reads a window of several bands at full resolution into <paramref name="dest"/> laid
    /// out by the given spacings, in elements: band i's value at (x, y) of the window goes to
    /// <c>dest[y * lineSpace + x * pixelSpace + i * bandSpace]</c>. A strip of columns can so
    /// be read into its place in a buffer of the whole width (band-sequential: pixelSpace 1,
    /// lineSpace the full width, bandSpace the full width times the rows).
    /// </summary>
    public void ReadBands<T>(ReadOnlySpan<int> bands, int xOff, int yOff, int xSize, int ySize, Span<T> dest, long pixelSpace, long lineSpace, long bandSpace)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pixelSpace);
        ArgumentOutOfRangeException.ThrowIfNegative(lineSpace);
        ArgumentOutOfRangeException.ThrowIfNegative(bandSpace);
        if (xSize > 0 && ySize > 0 && !bands.IsEmpty)
        {
            var last = ((ySize - 1) * lineSpace) + ((xSize - 1) * pixelSpace) + ((bands.Length - 1) * bandSpace);
            if (last >= dest.Length)
            {
                throw new ArgumentException($"destination holds {dest.Length} values; the window's last value would go to index {last}", nameof(dest));
            }
        }

        ReadBands(bands, xOff, yOff, xSize, ySize, dest, xSize, ySize, pixelSpace, lineSpace, bandSpace, Resampling.Nearest);
    }

    /// <summary>GDALDatasetRasterIOEx into <paramref name="dest"/>, whose size for the spacings the callers have checked.</summary>
    private void ReadBands<T>(
        ReadOnlySpan<int> bands, int xOff, int yOff, int xSize, int ySize, Span<T> dest, int bufWidth, int bufHeight,
        long pixelSpace, long lineSpace, long bandSpace, Resampling resampling)
        where T : unmanaged
    {
        var type = GdalTypes.Of<T>();
        if (bands.IsEmpty)
        {
            throw new ArgumentException("at least one band is needed", nameof(bands));
        }

        foreach (var band in bands)
        {
            CheckBand(band);
        }

        CheckWindow(xOff, yOff, xSize, ySize);
        using var ds = Lease();
        var extra = GdalNative.RasterIOExtraArg.Create(resampling);
        long size = sizeof(T);
        fixed (T* p = dest)
        fixed (int* map = bands)
        {
            GdalErrors.Reset();
            var err = GdalNative.GDALDatasetRasterIOEx(
                ds.Value, GdalNative.GF_Read, xOff, yOff, xSize, ySize, p, bufWidth, bufHeight, (int)type,
                bands.Length, map, pixelSpace * size, lineSpace * size, bandSpace * size, &extra);
            GdalErrors.Check(err, $"reading {bands.Length} bands, window ({xOff}, {yOff}, {xSize}x{ySize}) of {Name}");
        }
    }

    /// <inheritdoc cref="ReadBands{T}(ReadOnlySpan{int}, int, int, int, int, Span{T}, int, int, Resampling)"/>
    public void ReadBands<T>(ReadOnlySpan<int> bands, int xOff, int yOff, int xSize, int ySize, Span<T> dest)
        where T : unmanaged =>
        ReadBands(bands, xOff, yOff, xSize, ySize, dest, xSize, ySize);

    /// <summary>Writes <paramref name="src"/> (row-major, xSize*ySize) into a window of one band, converting from <typeparamref name="T"/>.</summary>
    public void Write<T>(int band, int xOff, int yOff, int xSize, int ySize, ReadOnlySpan<T> src)
        where T : unmanaged
    {
        var type = GdalTypes.Of<T>();
        EnsureWritable("write to");
        CheckWindow(xOff, yOff, xSize, ySize);
        if (src.Length < (long)xSize * ySize)
        {
            throw new ArgumentException(
                $"source holds {src.Length} values, the {xSize}x{ySize} window needs {(long)xSize * ySize}", nameof(src));
        }

        using var ds = Lease();
        var b = Band(ds.Value, band);
        var extra = GdalNative.RasterIOExtraArg.Create(Resampling.Nearest);
        fixed (T* p = src)
        {
            GdalErrors.Reset();
            var err = GdalNative.GDALRasterIOEx(
                b, GdalNative.GF_Write, xOff, yOff, xSize, ySize, p, xSize, ySize, (int)type, 0, 0, &extra);
            GdalErrors.Check(err, $"writing band {band} window ({xOff}, {yOff}, {xSize}x{ySize}) of {Name}");
        }
    }

    /// <summary>
    /// Encodes the dataset as a file of the given driver ("GTiff", "COG", "PNG", …) and returns
    /// its bytes. <paramref name="creationOptions"/> are "KEY=VALUE" (e.g. "COMPRESS=DEFLATE").
    /// Strict: a driver that cannot hold the data type fails instead of converting silently.
    /// Works in a private /vsimem/ folder that is removed afterwards, also on failure, which
    /// takes side files (.aux.xml, COG's temporary overviews) with it.
    /// </summary>
    public byte[] EncodeTo(string driver, params IEnumerable<string> creationOptions) =>
        EncodeTo(driver, creationOptions, $"{VsiRoot}/{Guid.NewGuid():N}");

    /// <summary>As above, in the given /vsimem/ folder (tests check that it is left empty).</summary>
    internal byte[] EncodeTo(string driver, IEnumerable<string> creationOptions, string vsiFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(driver);
        var path = $"{vsiFolder}/encoded";
        try
        {
            CopyTo(path, driver, creationOptions, $"encoding {Name} as {driver}");
            ulong length;
            var data = GdalNative.VSIGetMemFileBuffer(path, &length, 0);
            if (data is null)
            {
                throw new GdalException($"encoding {Name} as {driver}: the driver wrote nothing to {path}");
            }

            if (length > (ulong)Array.MaxLength)
            {
                throw new GdalException($"encoding {Name} as {driver}: {length} bytes do not fit in an array");
            }

            return new ReadOnlySpan<byte>(data, (int)length).ToArray();
        }
        finally
        {
            GdalNative.VSIRmdirRecursive(vsiFolder);
        }
    }

    /// <summary>Writes the dataset to a file with the given driver (GDALCreateCopy, strict) and closes it.</summary>
    public void CreateCopy(string path, string driver, params IEnumerable<string> creationOptions)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(driver);
        CopyTo(path, driver, creationOptions, $"writing {Name} as {driver} to '{path}'");
    }

    public void Dispose() => _handle.Dispose();

    public override string ToString() => $"{DriverName} {Width}x{Height}x{BandCount} {Name}";

    private static IntPtr Driver(string name)
    {
        var driver = GdalNative.GDALGetDriverByName(name);
        return driver != IntPtr.Zero
            ? driver
            : throw new GdalException($"GDAL driver '{name}' is not available in GDAL {Gdal.Version}");
    }

    private void CopyTo(string path, string driver, IEnumerable<string> creationOptions, string doing)
    {
        var drv = Driver(driver);
        using var options = new Utf8List(creationOptions);
        using var ds = Lease();
        GdalErrors.Reset();
        var copy = GdalNative.GDALCreateCopy(drv, path, ds.Value, 1, options.Pointer, IntPtr.Zero, IntPtr.Zero);
        if (copy == IntPtr.Zero)
        {
            throw GdalErrors.Last(doing);
        }

        // Closing flushes (and for GTiff writes the directory): a failure only shows here.
        GdalErrors.Reset();
        new DatasetHandle(copy).Dispose();
        GdalErrors.CheckLastError($"{doing} (closing)");
    }

    private HandleLease Lease() => new(_handle, nameof(GdalDataset));

    private IntPtr Band(IntPtr ds, int band)
    {
        CheckBand(band);
        return GdalNative.GDALGetRasterBand(ds, band);
    }

    private void CheckBand(int band)
    {
        if (band < 1 || band > BandCount)
        {
            throw new ArgumentOutOfRangeException(nameof(band), band, $"bands are numbered 1..{BandCount} in {Name}");
        }
    }

    private void CheckWindow(int xOff, int yOff, int xSize, int ySize)
    {
        if (xOff < 0 || yOff < 0 || xSize <= 0 || ySize <= 0 || xOff > Width - xSize || yOff > Height - ySize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(xOff), $"window ({xOff}, {yOff}, {xSize}x{ySize}) is not inside the {Width}x{Height} raster {Name}");
        }
    }

    private static void CheckBuffer(int length, int bufWidth, int bufHeight, int bands, Resampling resampling)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufHeight);
        if (!Enum.IsDefined(resampling))
        {
            throw new ArgumentOutOfRangeException(nameof(resampling), resampling, "unknown resampling");
        }

        var needed = (long)bufWidth * bufHeight * bands;
        if (length < needed)
        {
            throw new ArgumentException(
                $"destination holds {length} values, {bands} band(s) of {bufWidth}x{bufHeight} need {needed}", "dest");
        }
    }

    private void EnsureWritable(string what)
    {
        // A read-only GTiff would accept these through PAM and write a .aux.xml beside the
        // file on close (into /vsimem/ or the shared data); refuse instead.
        if (!_writable)
        {
            throw new InvalidOperationException($"cannot {what} {Name}: it was opened read-only");
        }
    }
}
