using System.Runtime.InteropServices;

namespace S2CloudMask.Engine.Gdal;

/// <summary>Severity of a message GDAL reports (CPLErr).</summary>
public enum GdalErrorClass
{
    None = 0,
    Debug = 1,
    Warning = 2,
    Failure = 3,
    Fatal = 4,
}

/// <summary>A message from GDAL's error handler.</summary>
public readonly record struct GdalMessage(GdalErrorClass Class, int Number, string Text);

/// <summary>
/// Process-wide GDAL set-up. Every type in this folder calls <see cref="Initialize"/> itself, so
/// calling it is only needed to fail early (e.g. at service start when libgdal is missing).
/// </summary>
/// <remarks>
/// Inside namespaces under <c>S2CloudMask.Engine</c> the name <c>Gdal</c> binds to this
/// namespace, not to this class: write <c>Gdal.Gdal.Version</c> there, or add
/// <c>using GdalLib = S2CloudMask.Engine.Gdal.Gdal;</c>.
/// </remarks>
public static unsafe class Gdal
{
    private static readonly Lock Gate = new();

    /// <summary>This thread's first failure message since <see cref="GdalErrors.Reset"/> (GDAL keeps only the last).</summary>
    [ThreadStatic]
    private static string? _firstFailure;
    private static volatile bool _initialized;

    /// <summary>
    /// Receives GDAL's warnings and errors (and debug output when CPL_DEBUG=ON), from whichever
    /// thread raised them, GDAL worker threads included. Null (the default) drops them: failures
    /// still surface as <see cref="GdalException"/>, and GDAL's own handler would write to stderr.
    /// Must not block; exceptions it throws are swallowed.
    /// </summary>
    public static Action<GdalMessage>? MessageHandler { get; set; }

    /// <summary>GDAL's release name, e.g. "3.6.2".</summary>
    public static string Version
    {
        get
        {
            Initialize();
            return GdalNative.Str(GdalNative.GDALVersionInfo("RELEASE_NAME")) ?? "";
        }
    }

    /// <summary>
    /// Loads libgdal, registers all drivers (GDALAllRegister) and routes GDAL's messages to
    /// <see cref="MessageHandler"/>. Idempotent and thread-safe; throws
    /// <see cref="DllNotFoundException"/> with an install hint when libgdal cannot be loaded.
    /// </summary>
    public static void Initialize()
    {
        if (_initialized)
        {
            return;
        }

        lock (Gate)
        {
            if (_initialized)
            {
                return;
            }

            GdalNative.Load();
            GdalNative.GDALAllRegister();

            // GDAL still records the last error per thread before calling the handler, so
            // CPLGetLastErrorMsg keeps working for GdalException.
            GdalNative.CPLSetErrorHandler(&OnMessage);
            _initialized = true;
        }
    }

    /// <summary>
    /// The first failure GDAL reported on this thread since the last <see cref="GdalErrors.Reset"/>:
    /// a read that fails deep down reports the cause first (a corrupt tile's "ZIPDecode:Decoding
    /// error") and then what failed because of it ("TIFFReadEncodedTile() failed", "IReadBlock
    /// failed"), and GDAL keeps the last. (A tile request that times out is not among them:
    /// /vsicurl/ reports no failure of its own, only libtiff's short read.)
    /// </summary>
    internal static string? FirstFailure
    {
        get => _firstFailure;
        set => _firstFailure = value;
    }

    /// <summary>Sets a process-wide configuration option (CPLSetConfigOption); null unsets it.</summary>
    public static void SetConfigOption(string key, string? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Initialize();
        GdalNative.CPLSetConfigOption(key, value);
    }

    /// <summary>
    /// The size of GDAL's block cache, process-wide (GDALGetCacheMax64 / GDALSetCacheMax64): it
    /// takes effect at once, unlike GDAL_CACHEMAX, which GDAL reads only on the cache's first use.
    /// </summary>
    public static long CacheMaxBytes
    {
        get
        {
            Initialize();
            return GdalNative.GDALGetCacheMax64();
        }

        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            Initialize();
            GdalNative.GDALSetCacheMax64(value);
        }
    }

    /// <summary>The option as GDAL sees it from this thread (thread-local, then global, then environment).</summary>
    public static string? GetConfigOption(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Initialize();
        return GdalNative.Str(GdalNative.CPLGetConfigOption(key, null));
    }

    /// <summary>
    /// Sets an option for the current OS thread only (CPLSetThreadLocalConfigOption); null unsets
    /// it. An <c>await</c> can resume on another thread, so set and use it inside one synchronous
    /// block; <see cref="ThreadLocalConfigOption"/> also restores the previous value.
    /// </summary>
    public static void SetThreadLocalConfigOption(string key, string? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Initialize();
        GdalNative.CPLSetThreadLocalConfigOption(key, value);
    }

    /// <summary>
    /// Sets a thread-local option until the returned scope is disposed, then restores what this
    /// thread had before. Dispose it on the same thread (no <c>await</c> inside the scope).
    /// </summary>
    public static IDisposable ThreadLocalConfigOption(string key, string? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Initialize();
        var previous = GdalNative.Str(GdalNative.CPLGetThreadLocalConfigOption(key, null));
        GdalNative.CPLSetThreadLocalConfigOption(key, value);
        return new ThreadLocalScope(key, previous, Environment.CurrentManagedThreadId);
    }

    [UnmanagedCallersOnly]
    private static void OnMessage(int errorClass, int number, byte* text)
    {
        if (errorClass >= (int)GdalErrorClass.Failure && _firstFailure is null)
        {
            _firstFailure = GdalNative.Str(text);
        }

        var handler = MessageHandler;
        if (handler is null)
        {
            return;
        }

        try
        {
            handler(new GdalMessage((GdalErrorClass)errorClass, number, GdalNative.Str(text) ?? ""));
        }
        catch (Exception)
        {
            // An exception must not unwind into GDAL's C frames.
        }
    }

    private sealed class ThreadLocalScope(string key, string? previous, int threadId) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            if (Environment.CurrentManagedThreadId != threadId)
            {
                throw new InvalidOperationException(
                    $"thread-local GDAL option {key} must be restored on the thread that set it");
            }

            _disposed = true;
            GdalNative.CPLSetThreadLocalConfigOption(key, previous);
        }
    }
}
