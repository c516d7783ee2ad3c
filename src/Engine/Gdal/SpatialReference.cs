using System.Runtime.InteropServices.Marshalling;

namespace S2CloudMask.Engine.Gdal;

/// <summary>
/// A coordinate reference system (OGRSpatialReferenceH). Every instance uses the traditional
/// GIS axis order (OAMS_TRADITIONAL_GIS_ORDER): x = easting or longitude, y = northing or
/// latitude, whatever the authority says (EPSG:4326 is officially latitude first).
/// </summary>
/// <remarks>Not thread-safe: use an instance from one thread at a time.</remarks>
public sealed unsafe class SpatialReference : IDisposable
{
    private readonly SpatialReferenceHandle _handle;

    private SpatialReference(SpatialReferenceHandle handle) => _handle = handle;

    /// <summary>The CRS name, e.g. "WGS 84 / UTM zone 31N".</summary>
    public string Name
    {
        get
        {
            using var srs = Lease();
            return GdalNative.Str(GdalNative.OSRGetName(srs.Value)) ?? "";
        }
    }

    /// <summary>Authority of the whole CRS, e.g. "EPSG"; null when the definition names none.</summary>
    public string? AuthorityName
    {
        get
        {
            using var srs = Lease();
            return GdalNative.Str(GdalNative.OSRGetAuthorityName(srs.Value, null));
        }
    }

    /// <summary>Code of the whole CRS, e.g. "32631"; null when the definition names none.</summary>
    public string? AuthorityCode
    {
        get
        {
            using var srs = Lease();
            return GdalNative.Str(GdalNative.OSRGetAuthorityCode(srs.Value, null));
        }
    }

    /// <summary>"EPSG:32631", or null when the definition carries no authority code.</summary>
    public string? AuthorityId =>
        AuthorityName is { } name && AuthorityCode is { } code ? $"{name}:{code}" : null;

    public bool IsGeographic
    {
        get
        {
            using var srs = Lease();
            return GdalNative.OSRIsGeographic(srs.Value) != 0;
        }
    }

    public bool IsProjected
    {
        get
        {
            using var srs = Lease();
            return GdalNative.OSRIsProjected(srs.Value) != 0;
        }
    }

    /// <summary>
    /// Anything OSRSetFromUserInput understands: "EPSG:4326", WKT, PROJJSON, a PROJ string,
    /// "WGS84". It also reads a file when given a path, so do not pass unchecked request input;
    /// prefer <see cref="FromEpsg"/> for that.
    /// </summary>
    public static SpatialReference FromUserInput(string definition)
    {
        ArgumentException.ThrowIfNullOrEmpty(definition);
        return Create(h => GdalNative.OSRSetFromUserInput(h, definition), $"reading the CRS '{definition}'");
    }

    public static SpatialReference FromEpsg(int code) =>
        Create(h => GdalNative.OSRImportFromEPSG(h, code), $"reading the CRS EPSG:{code}");

    /// <summary>From WKT (1 or 2), e.g. <see cref="GdalDataset.ProjectionWkt"/>.</summary>
    public static SpatialReference FromWkt(string wkt)
    {
        ArgumentException.ThrowIfNullOrEmpty(wkt);
        return Create(
            h =>
            {
                var text = Utf8StringMarshaller.ConvertToUnmanaged(wkt);
                try
                {
                    // GDAL advances the pointer it is given, so pass a copy and free the original.
                    var cursor = text;
                    return GdalNative.OSRImportFromWkt(h, &cursor);
                }
                finally
                {
                    Utf8StringMarshaller.Free(text);
                }
            },
            "reading a WKT CRS");
    }

    /// <summary>The CRS as WKT (GDAL's default flavour, WKT1 for most CRSs).</summary>
    public string ToWkt()
    {
        using var srs = Lease();
        byte* wkt = null;
        GdalErrors.Reset();
        var err = GdalNative.OSRExportToWkt(srs.Value, &wkt);
        try
        {
            if (err != GdalNative.OGRERR_NONE || wkt is null)
            {
                throw GdalErrors.Last($"exporting {Name} as WKT (OGRErr {err})");
            }

            return GdalNative.Str(wkt)!;
        }
        finally
        {
            // Allocated by GDAL (CPLMalloc); CPLFree is VSIFree.
            GdalNative.VSIFree(wkt);
        }
    }

    /// <summary>Whether both describe the same CRS (OSRIsSame: same definition, axis order aside for geographic CRSs).</summary>
    public bool IsSame(SpatialReference other)
    {
        ArgumentNullException.ThrowIfNull(other);
        using var a = Lease();
        using var b = other.Lease();
        return GdalNative.OSRIsSame(a.Value, b.Value) != 0;
    }

    public void Dispose() => _handle.Dispose();

    public override string ToString() => AuthorityId ?? Name;

    internal HandleLease Lease() => new(_handle, nameof(SpatialReference));

    private static SpatialReference Create(Func<IntPtr, int> import, string doing)
    {
        Gdal.Initialize();
        GdalErrors.Reset();
        var raw = GdalNative.OSRNewSpatialReference(null);
        if (raw == IntPtr.Zero)
        {
            throw GdalErrors.Last(doing);
        }

        var handle = new SpatialReferenceHandle(raw);
        try
        {
            GdalNative.OSRSetAxisMappingStrategy(raw, GdalNative.OAMS_TRADITIONAL_GIS_ORDER);
            var err = import(raw);
            if (err != GdalNative.OGRERR_NONE)
            {
                throw GdalErrors.Last($"{doing} (OGRErr {err})");
            }

            return new SpatialReference(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }
}
