using Microsoft.Extensions.Options;
using S2CloudMask.Api.Masks;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Raster;
using S2CloudMask.Engine.Remote;

namespace S2CloudMask.Api.Remote;

/// <summary>
/// Turns a remote source (one COG, a COG per band, or a STAC item) into the pixels of one
/// observation on one grid: every URL is checked against the policy and probed first, then
/// GDAL reads only the window through /vsicurl/ on a thread-pool thread (the reads block),
/// the other files of a COG-per-band source side by side on threads of their own.
/// </summary>
public sealed class RemoteSources : IDisposable
{
    /// <summary>Largest STAC item read.</summary>
    public const int MaxStacItemBytes = 4 << 20;

    private readonly RemoteOptions _options;
    private readonly RemoteProbe _probe;

    public RemoteSources(IOptions<RemoteOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        Policy = new UrlPolicy([.. _options.AllowedPrefixes], _options.AllowPrivateNetworks);
        _probe = new RemoteProbe(Policy, TimeSpan.FromSeconds(_options.TimeoutSeconds), _options.MaxRetries, TimeSpan.FromSeconds(_options.RetryDelaySeconds));
    }

    public UrlPolicy Policy { get; }

    public async Task<MaskInput> ReadAsync(RemoteSource source, RemoteRequest request, LimitsOptions limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        var (bands, asReflectance) = await ResolveAsync(source, cancellationToken);
        var grid = new GridRequest(request.Bbox, request.BboxEpsg, request.Resolution);
        var settings = new RemoteReadSettings(_options.TimeoutSeconds, _options.MaxRetries, _options.RetryDelaySeconds, limits.MaxPixels);
        var raster = await WithinDeadline(Task.Run(() => CogReader.Read(bands, grid, asReflectance, settings), cancellationToken), source, cancellationToken);
        var type = raster.IsFloat ? ElementType.Float32 : ElementType.UInt16;
        var image = BandImage.Planar(raster.Data, type, raster.Bands, raster.Height, raster.Width);
        return MaskInput.Single(image, new Georeference(raster.GeoTransform, raster.ProjectionWkt), raster.NoData);
    }

    /// <summary>
    /// Several sources, one per date, on one grid: a (y, x, band, time) stack of float32
    /// reflectance (each date decoded with the caller's scale/offset/nodata, or its STAC scaling).
    /// </summary>
    public async Task<(BandStack Stack, Georeference Georeference)> ReadStackAsync(
        RemoteRequest request, double? scale, double? offset, double? nodata, LimitsOptions limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        MaskRequestReader.CheckPixels(0, limits);
        var dates = new List<(float[] Values, MaskInput Input)>();
        foreach (var source in request.Sources)
        {
            var input = await ReadAsync(source, request, limits, cancellationToken);
            var first = dates.Count > 0 ? dates[0].Input : input;
            if (input.Height != first.Height || input.Width != first.Width
                || !input.Georeference!.GeoTransform!.SequenceEqual(first.Georeference!.GeoTransform!))
            {
                throw new RemoteSourceException(
                    RemoteFailure.Unusable,
                    UrlPolicy.Redact(source.Describe),
                    $"the date from {UrlPolicy.Redact(source.Describe)} lies on another grid than the first date; give a bbox and resolution so all dates share one");
            }

            MaskRequestReader.CheckPixels((long)input.Height * input.Width * (dates.Count + 1), limits);
            var scaling = Scaling.Resolve(input.Type, scale, offset, nodata ?? input.NoData);
            dates.Add((Geomedians.GeomedianRequestReader.ToReflectance(input.Date(0), scaling), input));
        }

        var (h, w, nb, nt) = (dates[0].Input.Height, dates[0].Input.Width, SpectralBands.Count, dates.Count);
        var values = new float[(long)h * w * nb * nt];
        for (var t = 0; t < nt; t++)
        {
            var date = dates[t].Values;
            for (long k = 0; k < (long)h * w * nb; k++)
            {
                values[(k * nt) + t] = date[k];
            }
        }

        return (new BandStack(NdArray.Create(values, h, w, nb, nt)), dates[0].Input.Georeference!);
    }

    public void Dispose() => _probe.Dispose();

    /// <summary>
    /// The read's result, or 504 <c>remote-timeout</c> once <c>Remote:ReadTimeoutSeconds</c>
    /// have passed. GDAL gives up on a tile only after many timed-out attempts: a server that
    /// sent a COG's header at once and every tile 6 s late held a 100 x 80 read for 72-73 s
    /// with <c>Remote:TimeoutSeconds</c> 2, and a GDAL read cannot be stopped from outside. An
    /// abandoned read ends in the background and disposes its datasets then.
    /// </summary>
    private async Task<RemoteRaster> WithinDeadline(Task<RemoteRaster> read, RemoteSource source, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var deadline = Task.Delay(TimeSpan.FromSeconds(_options.ReadTimeoutSeconds), timer.Token);
        if (await Task.WhenAny(read, deadline) == read)
        {
            await timer.CancelAsync();
            return await read;
        }

        // Nobody awaits the abandoned read: observe its error so it is not reported as unobserved.
        _ = read.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        cancellationToken.ThrowIfCancellationRequested();
        var shown = UrlPolicy.Redact(source.Describe);
        throw new RemoteSourceException(
            RemoteFailure.Timeout, shown, $"reading {shown} took longer than {_options.ReadTimeoutSeconds} s (Remote:ReadTimeoutSeconds)");
    }

    private async Task<(IReadOnlyList<BandSource> Bands, bool AsReflectance)> ResolveAsync(RemoteSource source, CancellationToken cancellationToken)
    {
        if (source.Url is { } url)
        {
            var uri = await _probe.ProbeAsync(url, cancellationToken);
            return ([.. Enumerable.Range(1, SpectralBands.Count).Select(b => new BandSource(uri, b))], false);
        }

        if (source.Bands is { } perBand)
        {
            var urls = new string[SpectralBands.Count];
            foreach (var (name, href) in perBand)
            {
                var band = StacItem.EarthSearchNames.TryGetValue(name, out var mapped) ? mapped : name.ToUpperInvariant();
                var index = SpectralBands.Names.ToList().IndexOf(band);
                if (index < 0)
                {
                    throw new InvalidInputException("bad-remote-request", $"bands.{name} is not one of {string.Join(" ", SpectralBands.Names)}");
                }

                urls[index] = href;
            }

            var missing = SpectralBands.Names.Where((_, i) => urls[i] is null).ToArray();
            if (missing.Length > 0)
            {
                throw new InvalidInputException("bad-remote-request", $"\"bands\" needs a COG for each of {string.Join(" ", SpectralBands.Names)}; missing {string.Join(", ", missing)}");
            }

            var probed = await ProbeAllAsync(urls, cancellationToken);
            return ([.. probed.Select(u => new BandSource(u, 1))], false);
        }

        var (itemUri, body) = await _probe.GetAsync(source.StacItem!, MaxStacItemBytes, cancellationToken);
        var stac = StacItem.Bands(body, itemUri);
        var hrefs = await ProbeAllAsync([.. stac.Select(b => b.Href)], cancellationToken);
        return ([.. stac.Select((b, i) => new BandSource(hrefs[i], 1, b.Scale, b.Offset))], true);
    }

    /// <summary>Probes distinct URLs concurrently (a few at a time), keeping the order.</summary>
    private async Task<Uri[]> ProbeAllAsync(string[] urls, CancellationToken cancellationToken)
    {
        var distinct = urls.Distinct(StringComparer.Ordinal).ToArray();
        var probed = new Dictionary<string, Uri>(StringComparer.Ordinal);
        using var gate = new SemaphoreSlim(4);
        var tasks = distinct.Select(async u =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                return (u, await _probe.ProbeAsync(u, cancellationToken));
            }
            finally
            {
                gate.Release();
            }
        });
        foreach (var (u, uri) in await Task.WhenAll(tasks))
        {
            probed[u] = uri;
        }

        return [.. urls.Select(u => probed[u])];
    }
}
