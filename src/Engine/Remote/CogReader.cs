using System.Text.RegularExpressions;
using S2CloudMask.Engine.Gdal;

namespace S2CloudMask.Engine.Remote;

/// <summary>One output band: which file (an already probed URL) and which band in it, and how its values become reflectance.</summary>
/// <param name="Url">The http(s) URL GDAL reads through /vsicurl/.</param>
/// <param name="Band">1-based band in that file.</param>
/// <param name="Scale">Reflectance = (value + Offset) x Scale when reading as reflectance.</param>
/// <param name="Offset">See <paramref name="Scale"/>.</param>
public sealed record BandSource(Uri Url, int Band, double Scale = 1, double Offset = 0);

/// <summary>What part of the sources to read and at which pixel size.</summary>
/// <param name="Bbox">[minx, miny, maxx, maxy], in <paramref name="BboxEpsg"/> or the raster's CRS when null; null = everything.</param>
/// <param name="BboxEpsg">EPSG code of the bbox's CRS; null = the raster's.</param>
/// <param name="Resolution">Pixel size in CRS units (10, 20, 60 m); null = the finest source's.</param>
public sealed record GridRequest(double[]? Bbox = null, int? BboxEpsg = null, double? Resolution = null);

/// <summary>Per-read GDAL settings (thread-local for the read).</summary>
public sealed record RemoteReadSettings(int TimeoutSeconds, int MaxRetries, double RetryDelaySeconds, long MaxPixels);

/// <summary>
/// Band-sequential pixels on one grid: UInt16 as stored (DN) when every source is UInt16 and no
/// reflectance was asked, else float32 (reflectance when asked, NaN = nodata).
/// </summary>
public sealed record RemoteRaster(byte[] Data, bool IsFloat, int Width, int Height, int Bands, double[] GeoTransform, string ProjectionWkt, double? NoData);

/// <summary>
/// Reads windows of Cloud-Optimized GeoTIFFs over HTTP through GDAL's /vsicurl/: only the
/// tiles under the window are fetched (range requests), and a coarser resolution reads from
/// the COG's overviews (GDAL picks the overview when the buffer is smaller than the window).
/// Bands of different grids are put on one: finer bands are averaged onto a coarser grid,
/// coarser bands bilinearly interpolated onto a finer one, as gdalbuildvrt/gdal_translate do.
/// Files (a COG per band) are opened and read side by side, each on a thread of its own.
/// </summary>
public static partial class CogReader
{
    /// <summary>
    /// Process-wide GDAL settings fit for COGs over HTTP. Only the per-read ones (timeouts,
    /// retries) are set per thread in <see cref="Read"/>.
    /// </summary>
    public static void ApplyProcessSettings(long vsiCacheBytes = 64L << 20)
    {
        // No directory listing on open (S3 or web servers would be asked for a listing per file).
        Gdal.Gdal.SetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");

        // Only TIFFs are opened through /vsicurl/ (no side-car probing for .aux.xml, .ovr, ...).
        Gdal.Gdal.SetConfigOption("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".tif,.tiff,.TIF,.TIFF");
        Gdal.Gdal.SetConfigOption("GDAL_HTTP_MERGE_CONSECUTIVE_RANGES", "YES");
        Gdal.Gdal.SetConfigOption("GDAL_HTTP_MULTIPLEX", "YES");
        Gdal.Gdal.SetConfigOption("GDAL_HTTP_VERSION", "2");
        Gdal.Gdal.SetConfigOption("VSI_CACHE", "TRUE");
        Gdal.Gdal.SetConfigOption("VSI_CACHE_SIZE", vsiCacheBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // Only http(s) through curl: no file://, ftp://, ... even inside a redirect.
        Gdal.Gdal.SetConfigOption("CPL_CURL_VERBOSE", "NO");
    }

    public static RemoteRaster Read(IReadOnlyList<BandSource> bands, GridRequest grid, bool asReflectance, RemoteReadSettings settings)
    {
        ArgumentNullException.ThrowIfNull(bands);
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(settings);
        if (bands.Count == 0)
        {
            throw new ArgumentException("no bands", nameof(bands));
        }

        // Thread-local, so concurrent requests with other settings do not interfere: set on
        // this thread and on every thread that opens or reads a file for this read.
        using var options = HttpOptions(settings);
        var urls = bands.Select(b => b.Url).Distinct().ToArray();
        var opened = new GdalDataset?[urls.Length];
        try
        {
            OnThreads(urls.Length, settings, i => opened[i] = Open(urls[i]));
            var datasets = urls.Zip(opened).ToDictionary(p => p.First, p => p.Second!);
            return ReadOpened(bands, datasets, grid, asReflectance, settings);
        }
        finally
        {
            foreach (var ds in opened)
            {
                ds?.Dispose();
            }
        }
    }

    /// <summary>This read's timeouts and retries, and the service's user agent, as GDAL options of the calling thread, until disposed.</summary>
    private static IDisposable HttpOptions(RemoteReadSettings settings)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        IDisposable[] scopes =
        [
            Gdal.Gdal.ThreadLocalConfigOption("GDAL_HTTP_TIMEOUT", settings.TimeoutSeconds.ToString(invariant)),
            Gdal.Gdal.ThreadLocalConfigOption("GDAL_HTTP_CONNECTTIMEOUT", settings.TimeoutSeconds.ToString(invariant)),
            Gdal.Gdal.ThreadLocalConfigOption("GDAL_HTTP_MAX_RETRY", settings.MaxRetries.ToString(invariant)),
            Gdal.Gdal.ThreadLocalConfigOption("GDAL_HTTP_RETRY_DELAY", settings.RetryDelaySeconds.ToString(invariant)),
            Gdal.Gdal.ThreadLocalConfigOption("GDAL_HTTP_USERAGENT", RemoteProbe.UserAgent),
        ];
        return new Scopes(scopes);
    }

    /// <summary>Disposes scopes in the reverse order of their making.</summary>
    private sealed class Scopes(IDisposable[] scopes) : IDisposable
    {
        public void Dispose()
        {
            for (var i = scopes.Length - 1; i >= 0; i--)
            {
                scopes[i].Dispose();
            }
        }
    }

    /// <summary>
    /// <paramref name="work"/>(i) for every i below <paramref name="n"/> side by side
    /// (<see cref="SideBySide.Run"/>: the work waits on the network, not on the cores), each
    /// with this read's HTTP options on its thread.
    /// <para>
    /// Per-band COGs are ten files: opened and read one after the other, each of their three or
    /// so requests waited for the one before. Against a local server answering every GET 40 ms
    /// late, a 300 x 300 mask from the ten per-band COGs of t31tdh took 1,389-1,991 ms this
    /// way (median 1,440 of 12 requests, the Zen 3 EPYC) against 315-1,277 ms (median 340 of
    /// 12) with every file on its own thread; without the delay 81-91 ms against 77-108.
    /// </para>
    /// </summary>
    private static void OnThreads(int n, RemoteReadSettings settings, Action<int> work) =>
        SideBySide.Run(
            n,
            i =>
            {
                using var options = HttpOptions(settings);
                work(i);
            },
            "cog read");

    private static RemoteRaster ReadOpened(
        IReadOnlyList<BandSource> bands, Dictionary<Uri, GdalDataset> datasets, GridRequest grid, bool asReflectance, RemoteReadSettings settings)
    {
        // The finest source defines the grid's origin and extent.
        var transforms = new Dictionary<Uri, double[]>();
        foreach (var (url, ds) in datasets)
        {
            var gt = ds.GetGeoTransform();
            if (gt is null || gt[2] != 0 || gt[4] != 0 || string.IsNullOrEmpty(ds.ProjectionWkt))
            {
                throw Unusable(url, "is not georeferenced on a north-up grid");
            }

            if (bands.Where(b => b.Url == url).Any(b => b.Band < 1 || b.Band > ds.BandCount))
            {
                throw Unusable(url, $"has {ds.BandCount} band(s), fewer than asked");
            }

            transforms[url] = gt;
        }

        var finest = transforms.MinBy(kv => Math.Abs(kv.Value[1])).Key;
        var wkt = datasets[finest].ProjectionWkt;
        using (var crs = SpatialReference.FromWkt(wkt))
        {
            foreach (var (url, ds) in datasets)
            {
                if (ds.ProjectionWkt != wkt)
                {
                    using var other = SpatialReference.FromWkt(ds.ProjectionWkt);
                    if (!crs.IsSame(other))
                    {
                        throw new RemoteSourceException(
                            RemoteFailure.Unusable,
                            UrlPolicy.Redact(url),
                            $"the bands are in different CRSs: {UrlPolicy.Redact(url)} is in {other}, {UrlPolicy.Redact(finest)} in {crs}");
                    }
                }
            }
        }

        var fgt = transforms[finest];
        var fds = datasets[finest];
        var res = grid.Resolution ?? Math.Abs(fgt[1]);
        var (ox, oy) = (fgt[0], fgt[3]);
        var extentW = fds.Width * Math.Abs(fgt[1]);
        var extentH = fds.Height * Math.Abs(fgt[5]);
        var maxCols = (int)Math.Floor((extentW / res) + 1e-9);
        var maxRows = (int)Math.Floor((extentH / res) + 1e-9);
        int c0 = 0, r0 = 0, c1 = maxCols, r1 = maxRows;
        if (grid.Bbox is { } bbox)
        {
            var (minx, miny, maxx, maxy) = (bbox[0], bbox[1], bbox[2], bbox[3]);
            if (grid.BboxEpsg is { } epsg)
            {
                using var from = SpatialReference.FromEpsg(epsg);
                using var to = SpatialReference.FromWkt(wkt);
                if (!from.IsSame(to))
                {
                    using var transform = new CoordinateTransformation(from, to);
                    (minx, miny, maxx, maxy) = transform.TransformBounds(minx, miny, maxx, maxy);
                }
            }

            c0 = Math.Max(0, (int)Math.Floor(((minx - ox) / res) + 1e-9));
            c1 = Math.Min(maxCols, (int)Math.Ceiling(((maxx - ox) / res) - 1e-9));
            r0 = Math.Max(0, (int)Math.Floor(((oy - maxy) / res) + 1e-9));
            r1 = Math.Min(maxRows, (int)Math.Ceiling(((oy - miny) / res) - 1e-9));
            if (c1 <= c0 || r1 <= r0)
            {
                throw new RemoteSourceException(
                    RemoteFailure.Unusable, UrlPolicy.Redact(finest), $"the bbox does not overlap {UrlPolicy.Redact(finest)}");
            }
        }

        var (w, h) = (c1 - c0, r1 - r0);
        if ((long)w * h > settings.MaxPixels)
        {
            throw new InputTooLargeException($"the window is {w} x {h} pixels, more than the limit of {settings.MaxPixels} (Limits:MaxPixels)");
        }

        double[] outGt = [ox + (c0 * res), res, 0, oy - (r0 * res), 0, -res];
        var allUInt16 = datasets.Values.All(ds => Enumerable.Range(1, ds.BandCount).All(b => ds.DataType(b) == GdalDataType.UInt16));
        var isFloat = asReflectance || !allUInt16;
        var pixels = w * h;
        var data = new byte[(long)pixels * bands.Count * (isFloat ? 4 : 2)];
        var bandNoData = bands.Select(b => datasets[b.Url].GetNoData(b.Band)).ToArray();
        var noData = bandNoData.FirstOrDefault(v => v is not null);

        // The files side by side (OnThreads), the bands of one file one after the other.
        var files = Enumerable.Range(0, bands.Count).GroupBy(i => bands[i].Url).Select(g => g.ToArray()).ToArray();
        OnThreads(files.Length, settings, f =>
        {
            foreach (var i in files[f])
            {
                ReadBand(i);
            }
        });

        void ReadBand(int i)
        {
            var source = bands[i];
            var ds = datasets[source.Url];
            var gt = transforms[source.Url];
            var xOff = (outGt[0] - gt[0]) / gt[1];
            var yOff = (outGt[3] - gt[3]) / gt[5];
            var xSize = w * res / gt[1];
            var ySize = h * res / Math.Abs(gt[5]);
            var pixel = Math.Abs(gt[1]);
            var resampling = Math.Abs(pixel - res) < 1e-9 * res ? Resampling.Nearest : pixel > res ? Resampling.Bilinear : Resampling.Average;
            try
            {
                if (isFloat)
                {
                    var plane = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data.AsSpan(i * pixels * 4, pixels * 4));
                    ds.ReadWindow(source.Band, xOff, yOff, xSize, ySize, plane, w, h, resampling);
                    if (asReflectance)
                    {
                        ToReflectance(plane, source, bandNoData[i]);
                    }
                }
                else
                {
                    var plane = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(data.AsSpan(i * pixels * 2, pixels * 2));
                    ds.ReadWindow(source.Band, xOff, yOff, xSize, ySize, plane, w, h, resampling);
                }
            }
            catch (GdalException e)
            {
                throw Classify(source.Url, e);
            }
        }

        return new RemoteRaster(data, isFloat, w, h, bands.Count, outGt, wkt, asReflectance ? null : noData);
    }

    private static void ToReflectance(Span<float> plane, BandSource source, double? noData)
    {
        var (scale, offset) = ((float)source.Scale, (float)source.Offset);
        for (var k = 0; k < plane.Length; k++)
        {
            var v = plane[k];
            plane[k] = noData is { } nd && v == nd ? float.NaN : (v + offset) * scale;
        }
    }

    private static GdalDataset Open(Uri url)
    {
        try
        {
            return GdalDataset.Open("/vsicurl/" + url.AbsoluteUri, ["GTiff"]);
        }
        catch (GdalException e)
        {
            throw Classify(url, e);
        }
    }

    /// <summary>GDAL's message, with every URL's query string removed, mapped to a failure kind.</summary>
    private static RemoteSourceException Classify(Uri url, GdalException e)
    {
        var shown = UrlPolicy.Redact(url);
        var message = QueryString().Replace(e.Message, "$1");
        var failure =
            message.Contains("timed out", StringComparison.OrdinalIgnoreCase) || message.Contains("timeout", StringComparison.OrdinalIgnoreCase) ? RemoteFailure.Timeout
            : message.Contains("404", StringComparison.Ordinal) ? RemoteFailure.NotFound
            : message.Contains("not recognized as a supported file format", StringComparison.OrdinalIgnoreCase)
              || message.Contains("not a TIFF", StringComparison.OrdinalIgnoreCase) ? RemoteFailure.NotATiff
            : RemoteFailure.ReadFailed;
        return new RemoteSourceException(failure, shown, $"reading {shown} failed: {message}", e);
    }

    private static RemoteSourceException Unusable(Uri url, string why) =>
        new(RemoteFailure.Unusable, UrlPolicy.Redact(url), $"{UrlPolicy.Redact(url)} {why}");

    [GeneratedRegex("(https?://[^\\s'\"?#]*)[?#][^\\s'\"]*", RegexOptions.CultureInvariant)]
    private static partial Regex QueryString();
}
