using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace S2CloudMask.Engine.Gdal;

/// <summary>Owns a GDALDatasetH; GDALClose runs exactly once, even from the finalizer.</summary>
internal sealed class DatasetHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DatasetHandle()
        : base(ownsHandle: true)
    {
    }

    internal DatasetHandle(IntPtr handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        GdalNative.GDALClose(handle);
        return true;
    }
}

/// <summary>Owns an OGRSpatialReferenceH (reference counted by GDAL, hence OSRRelease).</summary>
internal sealed class SpatialReferenceHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SpatialReferenceHandle()
        : base(ownsHandle: true)
    {
    }

    internal SpatialReferenceHandle(IntPtr handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        GdalNative.OSRRelease(handle);
        return true;
    }
}

/// <summary>Owns an OGRCoordinateTransformationH.</summary>
internal sealed class TransformationHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public TransformationHandle()
        : base(ownsHandle: true)
    {
    }

    internal TransformationHandle(IntPtr handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        GdalNative.OCTDestroyCoordinateTransformation(handle);
        return true;
    }
}

/// <summary>
/// Holds a reference on a SafeHandle for the length of a native call. Without it the JIT may
/// consider the wrapper dead once the raw pointer has been read, and the finalizer could close
/// the dataset while GDAL is still reading from it. Also turns use-after-Dispose into
/// <see cref="ObjectDisposedException"/> instead of a crash.
/// </summary>
internal ref struct HandleLease
{
    private readonly SafeHandle _handle;
    private bool _added;

    public HandleLease(SafeHandle handle, string owner)
    {
        _handle = handle;
        if (handle.IsClosed)
        {
            throw new ObjectDisposedException(owner);
        }

        handle.DangerousAddRef(ref _added);
        Value = handle.DangerousGetHandle();
    }

    public IntPtr Value { get; }

    public void Dispose()
    {
        if (_added)
        {
            _added = false;
            _handle.DangerousRelease();
        }
    }
}

/// <summary>A NULL-terminated <c>char**</c> of UTF-8 strings (GDAL's CSL lists), freed on Dispose.</summary>
internal unsafe ref struct Utf8List
{
    private byte** _list;
    private int _count;

    public Utf8List(IEnumerable<string>? items)
    {
        if (items is null)
        {
            return;
        }

        var array = items as IReadOnlyList<string> ?? items.ToList();
        if (array.Count == 0)
        {
            return;
        }

        _list = (byte**)NativeMemory.AllocZeroed((nuint)(array.Count + 1), (nuint)sizeof(byte*));
        for (var i = 0; i < array.Count; i++)
        {
            var s = array[i] ?? throw new ArgumentException("options must not contain null", nameof(items));
            var byteCount = Encoding.UTF8.GetByteCount(s);
            var p = (byte*)NativeMemory.Alloc((nuint)byteCount + 1);
            Encoding.UTF8.GetBytes(s, new Span<byte>(p, byteCount));
            p[byteCount] = 0;
            _list[i] = p;
            _count = i + 1;
        }
    }

    /// <summary>NULL when there are no items, which GDAL reads as an empty list.</summary>
    public readonly byte** Pointer => _list;

    public void Dispose()
    {
        if (_list is null)
        {
            return;
        }

        for (var i = 0; i < _count; i++)
        {
            NativeMemory.Free(_list[i]);
        }

        NativeMemory.Free(_list);
        _list = null;
    }
}

/// <summary>Turns GDAL's thread-local last error into <see cref="GdalException"/>.</summary>
internal static unsafe class GdalErrors
{
    /// <summary>Call before an operation so a stale message from earlier cannot be blamed on it.</summary>
    public static void Reset()
    {
        GdalNative.CPLErrorReset();
        Gdal.FirstFailure = null;
    }

    /// <summary>
    /// The last error on this thread, prefixed with what was being done, and followed by the
    /// first failure since <see cref="Reset"/> where that was another (the cause, as a rule).
    /// </summary>
    public static GdalException Last(string doing)
    {
        var message = GdalNative.Str(GdalNative.CPLGetLastErrorMsg())?.Trim();
        var number = GdalNative.CPLGetLastErrorNo();
        if (string.IsNullOrEmpty(message))
        {
            message = "GDAL reported no further detail";
        }

        var first = Gdal.FirstFailure?.Trim();
        if (!string.IsNullOrEmpty(first) && !message.Contains(first, StringComparison.Ordinal))
        {
            message += $" (after: {first})";
        }

        return new GdalException($"{doing}: {message}", number);
    }

    /// <summary>Throws for CE_Failure / CE_Fatal; CE_Warning counts as success, as in GDAL.</summary>
    public static void Check(int cplErr, string doing)
    {
        if (cplErr >= GdalNative.CE_Failure)
        {
            throw Last(doing);
        }
    }

    /// <summary>After a call whose return value cannot be trusted (GDALClose in 3.6 is void).</summary>
    public static void CheckLastError(string doing)
    {
        if (GdalNative.CPLGetLastErrorType() >= GdalNative.CE_Failure)
        {
            throw Last(doing);
        }
    }
}
