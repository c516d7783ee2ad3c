using S2CloudMask.Api.Masks;
using S2CloudMask.Api.Problems;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Geomedians;

/// <summary>
/// The reference of spectral-temporal models: the geomedian cached for the request's tileId.
/// When both the observation and the geomedian are georeferenced, the observation's window is
/// cut out of the geomedian (same CRS and pixel size, pixel-aligned, inside it); otherwise both
/// must have the same size. Anything else is 422, since comparing different places gives
/// nonsense rather than an error. A posted stack with a tileId whose geomedian is not cached
/// computes it once and caches it; without a tileId it is computed for this request only.
/// </summary>
public sealed class CachedReferenceProvider(GeomedianCache cache, GeomedianComputer computer) : IReferenceProvider
{
    /// <summary>How far (in pixels) a window origin may be from a whole pixel and still count as aligned.</summary>
    public const double AlignmentTolerance = 1e-3;

    public async ValueTask<ReferenceImage?> FindAsync(ReferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.TileId is null)
        {
            if (request.Stack is not { } own)
            {
                return null;
            }

            var ephemeral = await computer.ComputeAsync("uncached", own, request.StackScaling, request.Georeference, "mask", cancellationToken);
            return new ReferenceImage(ephemeral.ToImage(), Scaling.Identity, "computed-uncached");
        }

        var tileId = TileIds.Validate(request.TileId);
        StoredGeomedian geomedian;
        var origin = "cached";
        if (request.Stack is { } stack)
        {
            (geomedian, var computed) = await cache.GetOrComputeAsync(
                tileId,
                _ => true,
                ct => computer.ComputeAsync(tileId, stack, request.StackScaling, request.Georeference, "mask", ct),
                cancellationToken);
            origin = computed ? "computed" : "cached";
        }
        else
        {
            geomedian = await cache.FindAsync(tileId, cancellationToken) ?? throw new TileNotFoundException(tileId);
        }

        return new ReferenceImage(Window(geomedian, request.Height, request.Width, request.Georeference), Scaling.Identity, origin);
    }

    /// <summary>The part of the geomedian under the observation; 422 "reference-mismatch" when there is none.</summary>
    public static BandImage Window(StoredGeomedian geomedian, int height, int width, Georeference? observation)
    {
        ArgumentNullException.ThrowIfNull(geomedian);
        var stored = geomedian.Georeference?.GeoTransform;
        var wanted = observation?.GeoTransform;
        if (stored is null || wanted is null)
        {
            if (geomedian.Height != height || geomedian.Width != width)
            {
                throw Mismatch(
                    geomedian,
                    $"the observation is {height} x {width} but the geomedian is {geomedian.Height} x {geomedian.Width}, " +
                    "and without georeferencing on both only the same size can be matched");
            }

            return geomedian.ToImage();
        }

        if (!SameCrs(geomedian.Georeference!.ProjectionWkt, observation!.ProjectionWkt))
        {
            throw Mismatch(geomedian, "the observation and the geomedian are in different CRSs");
        }

        if (stored[2] != 0 || stored[4] != 0 || wanted[2] != 0 || wanted[4] != 0)
        {
            throw Mismatch(geomedian, "rotated grids are not supported");
        }

        if (!Close(stored[1], wanted[1]) || !Close(stored[5], wanted[5]))
        {
            throw Mismatch(
                geomedian,
                $"the observation's pixel size ({wanted[1]}, {wanted[5]}) differs from the geomedian's ({stored[1]}, {stored[5]})");
        }

        var col = (wanted[0] - stored[0]) / stored[1];
        var row = (wanted[3] - stored[3]) / stored[5];
        var (x0, y0) = ((int)Math.Round(col), (int)Math.Round(row));
        if (Math.Abs(col - x0) > AlignmentTolerance || Math.Abs(row - y0) > AlignmentTolerance)
        {
            throw Mismatch(geomedian, $"the observation's grid is shifted by a fraction of a pixel from the geomedian's ({col:0.###}, {row:0.###} pixels)");
        }

        if (x0 < 0 || y0 < 0 || x0 + width > geomedian.Width || y0 + height > geomedian.Height)
        {
            throw Mismatch(
                geomedian,
                $"the observation (columns {x0}..{x0 + width - 1}, rows {y0}..{y0 + height - 1} of the geomedian's grid) " +
                $"is not inside the geomedian ({geomedian.Width} x {geomedian.Height})");
        }

        if (x0 == 0 && y0 == 0 && width == geomedian.Width && height == geomedian.Height)
        {
            return geomedian.ToImage();
        }

        var bands = geomedian.Bands;
        var rowBytes = width * bands * sizeof(float);
        var data = new byte[(long)height * rowBytes];
        for (var y = 0; y < height; y++)
        {
            var from = ((((long)(y0 + y) * geomedian.Width) + x0) * bands) * sizeof(float);
            geomedian.Data.AsSpan((int)from, rowBytes).CopyTo(data.AsSpan(y * rowBytes, rowBytes));
        }

        return BandImage.Interleaved(data, ElementType.Float32, height, width, bands);
    }

    private static bool Close(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));

    private static bool SameCrs(string? a, string? b)
    {
        if (string.IsNullOrEmpty(a) || string.IsNullOrEmpty(b))
        {
            return string.IsNullOrEmpty(a) && string.IsNullOrEmpty(b);
        }

        if (a == b)
        {
            return true;
        }

        using var sa = SpatialReference.FromWkt(a);
        using var sb = SpatialReference.FromWkt(b);
        return sa.IsSame(sb);
    }

    private static UnprocessableInputException Mismatch(StoredGeomedian geomedian, string why) =>
        new("reference-mismatch", $"the geomedian cached for tile '{geomedian.TileId}' does not cover the observation: {why}");
}
