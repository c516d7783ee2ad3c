using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace S2CloudMask.Engine.Gdal;

/// <summary>
/// The slice of GDAL's C API this layer uses, bound with source-generated P/Invoke.
/// Signatures follow gdal.h, cpl_error.h, cpl_conv.h, cpl_vsi.h and ogr_srs_api.h of GDAL 3.6
/// and stay ABI-compatible with later 3.x releases. Every handle is a plain pointer: ownership
/// lives in the SafeHandles of the public types, which also keep a handle alive during a call.
/// Strings GDAL returns as <c>const char*</c> belong to GDAL, so they come back as <c>byte*</c>
/// and are copied with <see cref="Str"/>; a <c>string</c> return would make the marshaller free them.
/// </summary>
internal static unsafe partial class GdalNative
{
    internal const string Library = "gdal";

    internal const string NotFoundMessage =
        "GDAL native library not found: install libgdal32 (apt-get install libgdal32)";

    // libgdal.so.32 is GDAL 3.6 (Debian 12); plain libgdal.so exists only with the -dev package,
    // and "gdal" lets the runtime add the platform's prefix and suffix (gdal.dll, libgdal.dylib).
    // The other sonames are later 3.x releases (3.7 = 33 ... 3.11 = 37) and 3.4/3.5, so a
    // runtime-only install of another version loads too.
    internal static readonly string[] Candidates =
    [
        "libgdal.so.32", "libgdal.so", Library,
        "libgdal.so.37", "libgdal.so.36", "libgdal.so.35", "libgdal.so.34", "libgdal.so.33",
        "libgdal.so.31", "libgdal.so.30",
    ];

    private static readonly Lock LoadGate = new();
    private static IntPtr _library;

    static GdalNative()
    {
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(GdalNative).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Another part of the engine already owns the assembly's resolver (only one is
            // allowed); this event is consulted after default probing fails, which is enough.
            System.Runtime.Loader.AssemblyLoadContext.Default.ResolvingUnmanagedDll += (assembly, name) =>
                name == Library && assembly == typeof(GdalNative).Assembly ? Load() : IntPtr.Zero;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == Library ? Load() : IntPtr.Zero;

    /// <summary>Loads GDAL once; throws <see cref="DllNotFoundException"/> with an install hint.</summary>
    internal static IntPtr Load()
    {
        lock (LoadGate)
        {
            if (_library != IntPtr.Zero)
            {
                return _library;
            }

            foreach (var candidate in Candidates)
            {
                if (NativeLibrary.TryLoad(candidate, typeof(GdalNative).Assembly, null, out var handle))
                {
                    _library = handle;
                    return handle;
                }
            }

            throw new DllNotFoundException($"{NotFoundMessage}; tried {string.Join(", ", Candidates)}");
        }
    }

    /// <summary>Copies a GDAL-owned UTF-8 string (null stays null).</summary>
    internal static string? Str(byte* p) => Utf8StringMarshaller.ConvertToManaged(p);

    // --- enums and structs shared with the C side -------------------------------------------

    internal const int CE_None = 0;
    internal const int CE_Warning = 2;
    internal const int CE_Failure = 3;

    internal const int GF_Read = 0;
    internal const int GF_Write = 1;

    internal const uint GDAL_OF_READONLY = 0x00;
    internal const uint GDAL_OF_RASTER = 0x02;
    internal const uint GDAL_OF_VERBOSE_ERROR = 0x40;

    internal const int GPI_RGB = 1;
    internal const int GCI_PaletteIndex = 2;

    internal const int OGRERR_NONE = 0;
    internal const int OAMS_TRADITIONAL_GIS_ORDER = 0;

    /// <summary>
    /// GDALRasterIOExtraArg as of GDAL 2.0 to 3.9 (nVersion 1). GDAL 3.10 appended
    /// <c>bUseOnlyThisScale</c> (nVersion 2) but still accepts version 1, so this layout works
    /// on both. Sequential layout puts 4 bytes of padding before dfXOff, as a C compiler does.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct RasterIOExtraArg
    {
        public int Version;
        public int ResampleAlg;
        public IntPtr Progress;
        public IntPtr ProgressData;
        public int FloatingPointWindowValidity;
        public double XOff;
        public double YOff;
        public double XSize;
        public double YSize;

        public static RasterIOExtraArg Create(Resampling resampling) =>
            new() { Version = 1, ResampleAlg = (int)resampling };
    }

    /// <summary>GDALColorEntry: four shorts (r, g, b, alpha for an RGB palette).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ColorEntry
    {
        public short C1;
        public short C2;
        public short C3;
        public short C4;
    }

    // --- cpl_error.h / cpl_conv.h ------------------------------------------------------------

    [LibraryImport(Library)]
    internal static partial void GDALAllRegister();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial byte* GDALVersionInfo(string request);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void CPLSetConfigOption(string key, string? value);

    [LibraryImport(Library)]
    internal static partial void GDALSetCacheMax64(long bytes);

    [LibraryImport(Library)]
    internal static partial long GDALGetCacheMax64();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void CPLSetThreadLocalConfigOption(string key, string? value);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial byte* CPLGetConfigOption(string key, string? defaultValue);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial byte* CPLGetThreadLocalConfigOption(string key, string? defaultValue);

    [LibraryImport(Library)]
    internal static partial void CPLErrorReset();

    [LibraryImport(Library)]
    internal static partial int CPLGetLastErrorNo();

    [LibraryImport(Library)]
    internal static partial int CPLGetLastErrorType();

    [LibraryImport(Library)]
    internal static partial byte* CPLGetLastErrorMsg();

    /// <summary>Returns the previous handler. CPL_STDCALL is empty on every 64-bit target.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr CPLSetErrorHandler(delegate* unmanaged<int, int, byte*, void> handler);

    [LibraryImport(Library)]
    internal static partial void CSLDestroy(byte** list);

    // --- gdal.h: datasets, bands, drivers ----------------------------------------------------

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr GDALOpenEx(
        string path, uint openFlags, byte** allowedDrivers, byte** openOptions, byte** siblingFiles);

    /// <summary>void in GDAL 3.6, CPLErr from 3.7; declared void so it is right on both
    /// (callers read CPLGetLastErrorType instead of the return value).</summary>
    [LibraryImport(Library)]
    internal static partial void GDALClose(IntPtr dataset);

    [LibraryImport(Library)]
    internal static partial int GDALGetRasterXSize(IntPtr dataset);

    [LibraryImport(Library)]
    internal static partial int GDALGetRasterYSize(IntPtr dataset);

    [LibraryImport(Library)]
    internal static partial int GDALGetRasterCount(IntPtr dataset);

    [LibraryImport(Library)]
    internal static partial IntPtr GDALGetRasterBand(IntPtr dataset, int band);

    [LibraryImport(Library)]
    internal static partial int GDALGetRasterDataType(IntPtr band);

    [LibraryImport(Library)]
    internal static partial int GDALGetGeoTransform(IntPtr dataset, double* transform);

    [LibraryImport(Library)]
    internal static partial int GDALSetGeoTransform(IntPtr dataset, double* transform);

    [LibraryImport(Library)]
    internal static partial byte* GDALGetProjectionRef(IntPtr dataset);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int GDALSetProjection(IntPtr dataset, string wkt);

    [LibraryImport(Library)]
    internal static partial double GDALGetRasterNoDataValue(IntPtr band, int* success);

    [LibraryImport(Library)]
    internal static partial int GDALSetRasterNoDataValue(IntPtr band, double value);

    [LibraryImport(Library)]
    internal static partial int GDALGetOverviewCount(IntPtr band);

    [LibraryImport(Library)]
    internal static partial void GDALGetBlockSize(IntPtr band, int* xSize, int* ySize);

    [LibraryImport(Library)]
    internal static partial IntPtr GDALGetDatasetDriver(IntPtr dataset);

    [LibraryImport(Library)]
    internal static partial byte* GDALGetDriverShortName(IntPtr driver);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr GDALGetDriverByName(string name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr GDALCreate(
        IntPtr driver, string path, int width, int height, int bands, int dataType, byte** options);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr GDALCreateCopy(
        IntPtr driver, string path, IntPtr source, int strict, byte** options, IntPtr progress, IntPtr progressData);

    [LibraryImport(Library)]
    internal static partial int GDALRasterIOEx(
        IntPtr band, int rwFlag, int xOff, int yOff, int xSize, int ySize,
        void* buffer, int bufXSize, int bufYSize, int bufType,
        long pixelSpace, long lineSpace, RasterIOExtraArg* extraArg);

    [LibraryImport(Library)]
    internal static partial int GDALDatasetRasterIOEx(
        IntPtr dataset, int rwFlag, int xOff, int yOff, int xSize, int ySize,
        void* buffer, int bufXSize, int bufYSize, int bufType,
        int bandCount, int* bandMap, long pixelSpace, long lineSpace, long bandSpace,
        RasterIOExtraArg* extraArg);

    [LibraryImport(Library)]
    internal static partial IntPtr GDALCreateColorTable(int paletteInterp);

    [LibraryImport(Library)]
    internal static partial void GDALDestroyColorTable(IntPtr table);

    [LibraryImport(Library)]
    internal static partial void GDALSetColorEntry(IntPtr table, int index, ColorEntry* entry);

    [LibraryImport(Library)]
    internal static partial int GDALGetColorEntryCount(IntPtr table);

    [LibraryImport(Library)]
    internal static partial ColorEntry* GDALGetColorEntry(IntPtr table, int index);

    [LibraryImport(Library)]
    internal static partial int GDALSetRasterColorTable(IntPtr band, IntPtr table);

    [LibraryImport(Library)]
    internal static partial IntPtr GDALGetRasterColorTable(IntPtr band);

    [LibraryImport(Library)]
    internal static partial int GDALSetRasterColorInterpretation(IntPtr band, int interp);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void GDALSetDescription(IntPtr majorObject, string description);

    [LibraryImport(Library)]
    internal static partial byte* GDALGetDescription(IntPtr majorObject);

    // --- cpl_vsi.h -----------------------------------------------------------------------

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr VSIFileFromMemBuffer(string path, byte* data, ulong length, int takeOwnership);

    [LibraryImport(Library)]
    internal static partial int VSIFCloseL(IntPtr file);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial byte* VSIGetMemFileBuffer(string path, ulong* length, int unlinkAndSeize);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int VSIUnlink(string path);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int VSIRmdirRecursive(string path);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial byte** VSIReadDirRecursive(string path);

    [LibraryImport(Library)]
    internal static partial void* VSIMalloc(nuint size);

    [LibraryImport(Library)]
    internal static partial void VSIFree(void* p);

    // --- ogr_srs_api.h -------------------------------------------------------------------

    [LibraryImport(Library)]
    internal static partial IntPtr OSRNewSpatialReference(byte* wkt);

    [LibraryImport(Library)]
    internal static partial void OSRRelease(IntPtr srs);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int OSRSetFromUserInput(IntPtr srs, string definition);

    [LibraryImport(Library)]
    internal static partial int OSRImportFromEPSG(IntPtr srs, int code);

    /// <summary>Takes <c>char**</c>: GDAL advances the pointer it is given past what it parsed.</summary>
    [LibraryImport(Library)]
    internal static partial int OSRImportFromWkt(IntPtr srs, byte** wkt);

    [LibraryImport(Library)]
    internal static partial int OSRExportToWkt(IntPtr srs, byte** wkt);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial byte* OSRGetAuthorityName(IntPtr srs, string? targetKey);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial byte* OSRGetAuthorityCode(IntPtr srs, string? targetKey);

    [LibraryImport(Library)]
    internal static partial byte* OSRGetName(IntPtr srs);

    [LibraryImport(Library)]
    internal static partial int OSRIsSame(IntPtr a, IntPtr b);

    [LibraryImport(Library)]
    internal static partial int OSRIsGeographic(IntPtr srs);

    [LibraryImport(Library)]
    internal static partial int OSRIsProjected(IntPtr srs);

    [LibraryImport(Library)]
    internal static partial void OSRSetAxisMappingStrategy(IntPtr srs, int strategy);

    [LibraryImport(Library)]
    internal static partial IntPtr OCTNewCoordinateTransformation(IntPtr source, IntPtr target);

    [LibraryImport(Library)]
    internal static partial void OCTDestroyCoordinateTransformation(IntPtr transformation);

    [LibraryImport(Library)]
    internal static partial int OCTTransform(IntPtr transformation, int count, double* x, double* y, double* z);

    /// <summary>GDAL 3.4+.</summary>
    [LibraryImport(Library)]
    internal static partial int OCTTransformBounds(
        IntPtr transformation, double xMin, double yMin, double xMax, double yMax,
        double* outXMin, double* outYMin, double* outXMax, double* outYMax, int densifyPoints);
}
