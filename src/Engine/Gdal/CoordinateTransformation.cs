namespace S2CloudMask.Engine.Gdal;

/// <summary>
/// Transforms coordinates between two CRSs (OGRCoordinateTransformationH, backed by PROJ), in
/// the traditional GIS axis order of <see cref="SpatialReference"/>: x = easting/longitude.
/// </summary>
/// <remarks>
/// Not thread-safe: PROJ keeps per-object state, so give each thread its own instance. The
/// spatial references may be disposed after construction (GDAL keeps its own copies).
/// </remarks>
public sealed unsafe class CoordinateTransformation : IDisposable
{
    private readonly TransformationHandle _handle;
    private readonly string _description;

    public CoordinateTransformation(SpatialReference source, SpatialReference target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        _description = $"{source} to {target}";
        using var s = source.Lease();
        using var t = target.Lease();
        GdalErrors.Reset();
        var raw = GdalNative.OCTNewCoordinateTransformation(s.Value, t.Value);
        if (raw == IntPtr.Zero)
        {
            throw GdalErrors.Last($"creating a transformation from {_description}");
        }

        _handle = new TransformationHandle(raw);
    }

    public (double X, double Y) Transform(double x, double y)
    {
        Transform(new Span<double>(ref x), new Span<double>(ref y));
        return (x, y);
    }

    /// <summary>Transforms points in place; throws if any point fails (e.g. outside the projection's domain).</summary>
    public void Transform(Span<double> x, Span<double> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"{x.Length} x values but {y.Length} y values", nameof(y));
        }

        if (x.IsEmpty)
        {
            return;
        }

        using var ct = Lease();
        fixed (double* px = x)
        fixed (double* py = y)
        {
            GdalErrors.Reset();
            if (GdalNative.OCTTransform(ct.Value, x.Length, px, py, null) == 0)
            {
                throw GdalErrors.Last($"transforming {x.Length} point(s) from {_description}");
            }
        }
    }

    /// <summary>
    /// The bounding box, in the target CRS, of a box in the source CRS: the edges are densified
    /// with <paramref name="densifyPoints"/> points each, since straight edges bend when
    /// reprojected (OCTTransformBounds, GDAL 3.4+; handles the antimeridian).
    /// </summary>
    public (double MinX, double MinY, double MaxX, double MaxY) TransformBounds(
        double minX, double minY, double maxX, double maxY, int densifyPoints = 21)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(densifyPoints);
        using var ct = Lease();
        double x0, y0, x1, y1;
        GdalErrors.Reset();
        if (GdalNative.OCTTransformBounds(ct.Value, minX, minY, maxX, maxY, &x0, &y0, &x1, &y1, densifyPoints) == 0)
        {
            throw GdalErrors.Last($"transforming the bounds ({minX}, {minY}, {maxX}, {maxY}) from {_description}");
        }

        return (x0, y0, x1, y1);
    }

    public void Dispose() => _handle.Dispose();

    public override string ToString() => _description;

    private HandleLease Lease() => new(_handle, nameof(CoordinateTransformation));
}
