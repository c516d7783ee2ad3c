using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using S2CloudMask.Api.Classification;
using S2CloudMask.Api.Masks;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;
using Serilog;

namespace S2CloudMask.Api.Geomedians;

public static class GeomediansApi
{
    public static IEndpointRouteBuilder MapGeomediansApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/geomedians")
            .WithTags("Geomedians")
            .ProducesProblem(StatusCodes.Status400BadRequest);

        group.MapGet("", ListGeomedians)
            .WithName("ListGeomedians")
            .WithSummary("The cached geomedians")
            .WithDescription("Size, georeferencing, created and last used of every cached geomedian, and those found corrupt and dropped.");

        group.MapGet("/{tileId}", GetGeomedian)
            .WithName("GetGeomedian")
            .WithSummary("Download a cached geomedian (GeoTIFF or .npy)")
            .Produces(StatusCodes.Status200OK, null, "image/tiff", MaskEncoder.NpyType)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPut("/{tileId}", PutGeomedian)
            .WithName("PutGeomedian")
            .WithSummary("Store a ready (y, x, band) reference for the tile")
            .WithDescription("Body: a (y, x, 10) .npy (application/x-npy) or a 10-band GeoTIFF (image/tiff; its georeferencing is kept). Values become reflectance through scale/offset (defaults as for /mask).")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        group.MapPost("/{tileId}", PostGeomedian)
            .WithName("PostGeomedian")
            .WithSummary("Compute the geomedian of a (y, x, band, time) stack and store it for the tile")
            .WithDescription("Body: a (y, x, 10, time) .npy, a GeoTIFF of 10 x time bands with ?time=, or JSON {\"sources\": [COG/STAC sources, one per date], \"bbox\": [...], ...}. Answers the summary: size, dates used, iterations, ms.")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapDelete("/{tileId}", DeleteGeomedian)
            .WithName("DeleteGeomedian")
            .WithSummary("Remove a cached geomedian")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return app;
    }

    public static async Task<Ok<GeomedianList>> ListGeomedians([AsParameters] GeomedianListQuery query, GeomedianCache cache, CancellationToken cancellationToken)
    {
        var entries = await cache.ListAsync(query.Verify, cancellationToken);
        var infos = entries
            .Where(e => e.Header is not null)
            .OrderBy(e => e.TileId, StringComparer.Ordinal)
            .Select(e => Describe(e.Header!, e.LastUsedUtc, cache.IsInMemory(e.TileId), null))
            .ToArray();
        return TypedResults.Ok(new GeomedianList(cache.BackendName, cache.MemoryBytes, infos, cache.Dropped));
    }

    public static async Task<FileContentHttpResult> GetGeomedian(
        string tileId, [AsParameters] GeomedianDownloadQuery query, HttpContext http, GeomedianCache cache, CancellationToken cancellationToken)
    {
        TileIds.Validate(tileId);
        var format = query.Format?.Trim().ToLowerInvariant() switch
        {
            null or "" => MasksApi.NegotiateFormat(http.Request) == "npy" ? "npy" : "geotiff",
            "geotiff" or "tif" or "tiff" => "geotiff",
            "npy" => "npy",
            var other => throw new InvalidInputException("bad-parameter", $"format must be geotiff or npy, not '{other}'"),
        };
        var geomedian = await cache.FindAsync(tileId, cancellationToken) ?? throw new TileNotFoundException(tileId);
        http.Response.Headers.ContentDisposition =
            new ContentDispositionHeaderValue("attachment") { FileNameStar = $"geomedian-{tileId}.{(format == "npy" ? "npy" : "tif")}" }.ToString();
        http.Response.Headers["X-Checksum-Sha256"] = geomedian.Checksum;
        return format == "npy"
            ? TypedResults.Bytes(Npy.ToBytes(geomedian.ToArray()), MaskEncoder.NpyType)
            : TypedResults.Bytes(ToGeoTiff(geomedian), MaskEncoder.GeoTiffType);
    }

    public static async Task<Created<GeomedianInfo>> PutGeomedian(
        string tileId,
        [AsParameters] GeomedianQuery query,
        HttpContext http,
        ClassifierPool pool,
        GeomedianCache cache,
        IOptions<LimitsOptions> limits,
        CancellationToken cancellationToken)
    {
        TileIds.Validate(tileId);
        using var admission = pool.Admit();
        var (values, height, width, georeference) = await GeomedianRequestReader.ReadReferenceAsync(http.Request, query, limits.Value, cancellationToken);
        var stored = await cache.StoreAsync(
            StoredGeomedian.FromValues(tileId, values, height, width, SpectralBands.Count, georeference, "put"), cancellationToken);
        return TypedResults.Created($"/geomedians/{tileId}", Describe(stored, cache));
    }

    public static async Task<Created<GeomedianInfo>> PostGeomedian(
        string tileId,
        [AsParameters] GeomedianQuery query,
        HttpContext http,
        ClassifierPool pool,
        GeomedianCache cache,
        GeomedianComputer computer,
        GeomedianSources sources,
        IOptions<LimitsOptions> limits,
        IDiagnosticContext diagnostics,
        CancellationToken cancellationToken)
    {
        TileIds.Validate(tileId);
        using var admission = pool.Admit();
        var clock = Stopwatch.StartNew();
        var (stack, scaling, georeference, source) = await sources.ReadStackAsync(http.Request, query, limits.Value, cancellationToken);
        var computed = await computer.ComputeAsync(tileId, stack, scaling, georeference, source, cancellationToken);
        var stored = await cache.StoreAsync(computed, cancellationToken);
        diagnostics.Set("TileId", tileId);
        diagnostics.Set("Pixels", (long)stack.Height * stack.Width * stack.Dates);
        diagnostics.Set("GeomedianMs", Math.Round(clock.Elapsed.TotalMilliseconds, 1));
        return TypedResults.Created($"/geomedians/{tileId}", Describe(stored, cache));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteGeomedian(string tileId, GeomedianCache cache, CancellationToken cancellationToken)
    {
        TileIds.Validate(tileId);
        return await cache.DeleteAsync(tileId, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.ProblemTable.Result(StatusCodes.Status404NotFound, "unknown-tile", new TileNotFoundException(tileId).Message);
    }

    public static GeomedianInfo Describe(StoredGeomedian g, GeomedianCache cache)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(cache);
        var header = new GeomedianHeader(
            g.TileId, g.Height, g.Width, g.Bands, g.Georeference?.GeoTransform, g.Georeference?.ProjectionWkt, g.CreatedUtc, g.Source, g.Summary);
        return Describe(header, DateTimeOffset.UtcNow, cache.IsInMemory(g.TileId), g.Checksum);
    }

    private static GeomedianInfo Describe(GeomedianHeader h, DateTimeOffset? lastUsed, bool inMemory, string? checksum)
    {
        var georeference = new Georeference(h.GeoTransform, h.ProjectionWkt);
        var bbox = MaskEncoder.ContentBbox(georeference, h.Width, h.Height) is { } text
            ? text.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()
            : null;
        return new GeomedianInfo(
            h.TileId,
            h.Height,
            h.Width,
            h.Bands,
            (long)h.Height * h.Width * h.Bands * sizeof(float),
            h.GeoTransform,
            MaskEncoder.ContentCrs(georeference) is { } crs ? CrsId(crs) : null,
            bbox,
            h.CreatedUtc,
            lastUsed,
            h.Source,
            h.Summary,
            inMemory,
            checksum);
    }

    /// <summary>"&lt;http://www.opengis.net/def/crs/EPSG/0/32631&gt;" -> "EPSG:32631".</summary>
    private static string CrsId(string contentCrs)
    {
        var parts = contentCrs.Trim('<', '>').Split('/');
        return parts.Length >= 3 ? $"{parts[^3]}:{parts[^1]}" : contentCrs;
    }

    private static byte[] ToGeoTiff(StoredGeomedian g)
    {
        using var ds = GdalDataset.CreateInMemory(g.Width, g.Height, g.Bands, GdalDataType.Float32);
        var values = g.Values;
        var plane = new float[(long)g.Height * g.Width];
        for (var b = 0; b < g.Bands; b++)
        {
            for (var k = 0; k < plane.Length; k++)
            {
                plane[k] = values[(k * g.Bands) + b];
            }

            ds.Write<float>(b + 1, 0, 0, g.Width, g.Height, plane);
            ds.SetNoData(b + 1, double.NaN);
            ds.SetDescription(b + 1, b < SpectralBands.Count ? SpectralBands.Names[b] : $"band {b + 1}");
        }

        if (g.Georeference?.GeoTransform is { } transform)
        {
            ds.SetGeoTransform(transform);
        }

        if (!string.IsNullOrEmpty(g.Georeference?.ProjectionWkt))
        {
            ds.ProjectionWkt = g.Georeference.ProjectionWkt;
        }

        return ds.EncodeTo("GTiff", "COMPRESS=DEFLATE", "PREDICTOR=3", "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "INTERLEAVE=BAND");
    }
}
