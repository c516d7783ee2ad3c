using System.Net;
using System.Text;
using System.Text.Json;
using S2CloudMask.Api.Tests.Support;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;
using S2CloudMask.Engine.Remote;

namespace S2CloudMask.Api.Tests.Remote;

/// <summary>
/// COG-URL input against a local range server holding ../shared/data/t31tdh-20150726: the same
/// mask as uploading stack10.tif, windows that read only their tiles, STAC items, and every
/// failure mode with its documented status.
/// </summary>
public sealed class CogInputTests : IAsyncLifetime
{
    private static readonly string[] BandNames = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"];

    // Origin of the T31TDH clip (EPSG:32631), 10 m pixels, 300 x 300.
    private const double X0 = 399960;
    private const double Y0 = 4693200;

    private RangeServer _server = null!;
    private CloudMaskApiFactory _factory = null!;
    private HttpClient _client = null!;

    private static string Folder => SharedData.Data("t31tdh-20150726");

    public async Task InitializeAsync()
    {
        _server = await RangeServer.StartAsync(Folder);
        _factory = CloudMaskApiFactory.With(new Dictionary<string, string?>
        {
            ["Remote:AllowPrivateNetworks"] = "true",
            ["Remote:TimeoutSeconds"] = "2",
            ["Remote:ReadTimeoutSeconds"] = "5",
            ["Remote:RetryDelaySeconds"] = "0.05",
            ["Remote:MaxRetries"] = "2",
        });
        _client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await _server.DisposeAsync();
    }

    [SharedFact]
    public async Task SingleCogGivesTheSameMaskAsUploadingIt()
    {
        var uploaded = await MaskOf(Requests.Tiff(File.ReadAllBytes(Path.Combine(Folder, "stack10.tif"))));
        var remote = await MaskOf(Json(new { url = _server.Url("files/stack10.tif"), model = "fast", output = "probability", format = "npy" }));

        // Same pixels through the same classifier: bit-identical.
        Assert.Equal(uploaded, remote);
    }

    /// <summary>
    /// Per-band COGs put the 20 m bands on the 10 m grid with GDAL's bilinear RasterIO, as
    /// gdalbuildvrt/gdal_translate did for stack10. The two paths may round a DN differently at
    /// the half, so the test allows |dp| &lt;= 0.02 on 99 % of pixels and equal masks on 99 %.
    /// </summary>
    [SharedFact]
    public async Task PerBandCogsMatchStack10WithinTheResamplingDifference()
    {
        var uploaded = await MaskOf(Requests.Tiff(File.ReadAllBytes(Path.Combine(Folder, "stack10.tif"))));
        var perBand = await MaskOf(Json(new { bands = BandUrls("files"), model = "fast", output = "probability", format = "npy" }));

        Assert.Equal(uploaded.Length, perBand.Length);
        var close = uploaded.Zip(perBand).Count(p => Math.Abs(p.First - p.Second) <= 0.02);
        var same = uploaded.Zip(perBand).Count(p => (p.First > 0.5f) == (p.Second > 0.5f));
        Assert.True(close >= 0.99 * uploaded.Length, $"|dp| <= 0.02 on {close} of {uploaded.Length}");
        Assert.True(same >= 0.99 * uploaded.Length, $"masks equal on {same} of {uploaded.Length}");
    }

    [SharedFact]
    public async Task BboxReturnsOnlyTheWindowAndReadsFewerBytes()
    {
        var before = _server.BytesServed("stack10.tif");
        double[] bbox = [X0 + 300, Y0 - 1200, X0 + 1300, Y0 - 400]; // columns 30..129, rows 40..119
        using var response = await _client.PostAsync(
            "/mask?model=fast&format=geotiff", Json(new { url = _server.Url("files/stack10.tif?window=1"), bbox }));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var read = _server.BytesServed("stack10.tif") - before;
        var size = new FileInfo(Path.Combine(Folder, "stack10.tif")).Length;

        // The window lies in the first 256 x 256 tile of four (pixel-interleaved): that tile and the header.
        Assert.True(read < size * 0.8, $"read {read} bytes of a {size}-byte file for a 100 x 80 window");

        using var tiff = new OpenedRaster(await response.Content.ReadAsByteArrayAsync(), ".tif");
        Assert.Equal((100, 80), (tiff.Dataset.Width, tiff.Dataset.Height));
        Assert.Equal([X0 + 300, 10, 0, Y0 - 400, 0, -10], tiff.Dataset.GetGeoTransform()!);
        using var srs = SpatialReference.FromWkt(tiff.Dataset.ProjectionWkt);
        Assert.Equal("EPSG:32631", srs.AuthorityId);
        Assert.Contains("32631", response.Headers.GetValues("Content-Crs").Single(), StringComparison.Ordinal);
    }

    [SharedFact]
    public async Task WindowInTheLastTileReadsOnlyThatTile()
    {
        var before = _server.BytesServed("stack10.tif");
        double[] bbox = [X0 + 2700, Y0 - 2900, X0 + 2900, Y0 - 2700]; // columns 270..289, rows 270..289
        using var response = await _client.PostAsync(
            "/mask?model=fast&format=npy", Json(new { url = _server.Url("files/stack10.tif?window=2"), bbox }));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var shape = Npy.Read(await response.Content.ReadAsByteArrayAsync()).Shape;
        Assert.Equal(new[] { 20, 20 }, shape);
        var read = _server.BytesServed("stack10.tif") - before;
        var size = new FileInfo(Path.Combine(Folder, "stack10.tif")).Length;

        // The 44 x 44 corner tile holds about 2 % of the pixels.
        Assert.True(read < size / 10, $"read {read} bytes of a {size}-byte file for a 20 x 20 window in the corner tile");
    }

    [SharedFact]
    public async Task BboxInLongitudeLatitudeCoversTheSameWindow()
    {
        using var utm = SpatialReference.FromEpsg(32631);
        using var wgs84 = SpatialReference.FromEpsg(4326);
        using var transform = new CoordinateTransformation(utm, wgs84);
        var (minx, miny, maxx, maxy) = transform.TransformBounds(X0 + 300, Y0 - 1200, X0 + 1300, Y0 - 400);
        using var response = await _client.PostAsync(
            "/mask?model=fast&format=geotiff",
            Json(new { url = _server.Url("files/stack10.tif"), bbox = new[] { minx, miny, maxx, maxy }, bboxCrs = "EPSG:4326" }));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        using var tiff = new OpenedRaster(await response.Content.ReadAsByteArrayAsync(), ".tif");
        var gt = tiff.Dataset.GetGeoTransform()!;

        // The lon/lat box's projection is a little larger than the UTM box: it covers it.
        Assert.True(gt[0] <= X0 + 300 && gt[3] >= Y0 - 400, string.Join(", ", gt));
        Assert.True(gt[0] + (tiff.Dataset.Width * 10) >= X0 + 1300 && gt[3] - (tiff.Dataset.Height * 10) <= Y0 - 1200);
    }

    [SharedTheory]
    [InlineData(20, 150)]
    [InlineData(60, 50)]
    public async Task CoarserResolutionAveragesOntoItsGrid(int resolution, int size)
    {
        using var response = await _client.PostAsync(
            "/mask?model=fast&format=geotiff", Json(new { bands = BandUrls("files"), resolution }));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        using var tiff = new OpenedRaster(await response.Content.ReadAsByteArrayAsync(), ".tif");
        Assert.Equal((size, size), (tiff.Dataset.Width, tiff.Dataset.Height));
        Assert.Equal([X0, resolution, 0, Y0, 0, -resolution], tiff.Dataset.GetGeoTransform()!);
    }

    [SharedFact]
    public async Task StacItemWithEarthSearchAssetNamesWorks()
    {
        string[] earthSearch = ["blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08", "swir16", "swir22"];
        var assets = earthSearch.Select((name, i) => (name, asset: (object)new Dictionary<string, object>
        {
            // Relative hrefs resolve against the item's URL.
            ["href"] = $"../files/{BandNames[i]}.tif",
            ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized",
            ["raster:bands"] = new[] { new Dictionary<string, object> { ["scale"] = 0.0001, ["offset"] = 0, ["nodata"] = 0 } },
        })).ToDictionary(a => a.name, a => a.asset);
        var item = new Dictionary<string, object>
        {
            ["type"] = "Feature",
            ["stac_version"] = "1.0.0",
            ["id"] = "S2A_31TDH_20150726_0_L2A",
            ["properties"] = new Dictionary<string, object> { ["s2:processing_baseline"] = "02.04" },
            ["assets"] = assets,
        };
        var url = _server.Put("item.json", JsonSerializer.SerializeToUtf8Bytes(item), "application/json");

        var stac = await MaskOf(Json(new { stacItem = url, model = "fast", output = "probability", format = "npy" }));
        var perBand = await MaskOf(Json(new { bands = BandUrls("files"), model = "fast", output = "probability", format = "npy" }));

        // (DN + 0) x 1e-4 in the reader against DN / 10000 in the classifier: float rounding only.
        var worst = stac.Zip(perBand).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst <= 1e-3, $"worst |dp| {worst}");
    }

    [SharedFact]
    public async Task NotFoundIs502NamingTheUrlWithoutItsQuery()
    {
        using var response = await _client.PostAsync("/mask?model=fast", Json(new { url = _server.Url("status/404/B02.tif?X-Amz-Signature=secret") }));
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.BadGateway, "remote-not-found");
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains(_server.Url("status/404/B02.tif"), detail, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", detail, StringComparison.Ordinal);
    }

    [SharedFact]
    public async Task ServerErrorIsRetriedThen502()
    {
        var before = _server.Requests("B03.tif");
        using var response = await _client.PostAsync("/mask?model=fast", Json(new { url = _server.Url("status/503/B03.tif") }));
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadGateway, "remote-server-error");
        Assert.Equal(3, _server.Requests("B03.tif") - before); // first try + Remote:MaxRetries
    }

    /// <summary>
    /// Per-band files are read side by side, each on a thread of its own, not one after the
    /// other: with every tile request of theirs answered late, requests of several files are
    /// being answered at once.
    /// </summary>
    [SharedFact]
    public async Task PerBandFilesAreReadSideBySide()
    {
        var bands = BandNames.ToDictionary(b => b, b => _server.Url($"slowtiles/150/{b}.tif?side-by-side"));
        using var response = await _client.PostAsync("/mask?model=fast", Json(new { bands }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(_server.MostSlowFilesAtOnce >= 2, $"at most {_server.MostSlowFilesAtOnce} file(s) at once");
    }

    /// <summary>
    /// Every request for every band file, the probe's and GDAL's on whichever thread reads
    /// the file, carries the request's GDAL options: the service's user agent shows them.
    /// </summary>
    [SharedFact]
    public async Task EveryRequestOfEveryBandCarriesTheReadsOptions()
    {
        using var response = await _client.PostAsync("/mask?model=fast", Json(new { bands = BandUrls("files") }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        foreach (var band in BandNames)
        {
            Assert.Equal([RemoteProbe.UserAgent], _server.UserAgents(band + ".tif"));
        }
    }

    /// <summary>
    /// A server that sends the COG's header at once (so the probe and GDAL's open pass) but
    /// every tile 6 s late: GDAL would try on for over a minute with a 2 s timeout per
    /// request; the whole read's deadline (5 s here) answers 504.
    /// </summary>
    [SharedFact]
    public async Task ASlowTileServerIs504AtTheReadsDeadline()
    {
        double[] bbox = [X0 + 300, Y0 - 1200, X0 + 1300, Y0 - 400];
        using var response = await _client.PostAsync("/mask?model=fast", Json(new { url = _server.Url("slowtiles/6000/stack10.tif?deadline"), bbox }));
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.GatewayTimeout, "remote-timeout");
        Assert.Contains("Remote:ReadTimeoutSeconds", problem.GetProperty("detail").GetString()!, StringComparison.Ordinal);
    }

    [SharedFact]
    public async Task APerBandServerErrorIs502NamingItsUrl()
    {
        var bands = BandUrls("files");
        bands["B11"] = _server.Url("status/503/B11.tif");
        using var response = await _client.PostAsync("/mask?model=fast", Json(new { bands }));
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.BadGateway, "remote-server-error");
        Assert.Contains(_server.Url("status/503/B11.tif"), problem.GetProperty("detail").GetString()!, StringComparison.Ordinal);
    }

    [SharedFact]
    public async Task SlowServerIs504()
    {
        using var response = await _client.PostAsync("/mask?model=fast", Json(new { url = _server.Url("slow/5000/stack10.tif") }));
        await ProblemAssert.IsProblem(response, HttpStatusCode.GatewayTimeout, "remote-timeout");
    }

    [SharedFact]
    public async Task NonTiffIs422()
    {
        using var response = await _client.PostAsync("/mask?model=fast", Json(new { url = _server.Url("text/page.tif") }));
        await ProblemAssert.IsProblem(response, HttpStatusCode.UnprocessableEntity, "not-a-tiff");
    }

    [SharedFact]
    public async Task UnreachableHostIs502()
    {
        // A port nothing listens on: bind one, note it, close it.
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var response = await _client.PostAsync("/mask?model=fast", Json(new { url = $"http://127.0.0.1:{port}/stack10.tif" }));
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadGateway, "remote-unreachable");
    }

    [SharedFact]
    public async Task BandsInDifferentCrssAre422()
    {
        var other = _server.Put("B05-3857.tif", Reprojected(Path.Combine(Folder, "B05.tif")), "image/tiff");
        var bands = BandUrls("files");
        bands["B05"] = other;
        using var response = await _client.PostAsync("/mask?model=fast", Json(new { bands }));
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.UnprocessableEntity, "remote-unusable");
        Assert.Contains("different CRSs", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("/vsimem/s2cloudmask/x.tif")]
    [InlineData("/etc/passwd")]
    [InlineData("ftp://example.com/a.tif")]
    [InlineData("gopher://127.0.0.1/")]
    public async Task NonHttpUrlsAreRefused(string url)
    {
        using var response = await _client.PostAsync("/mask?model=fast", Json(new { url }));
        await ProblemAssert.IsProblem(response, HttpStatusCode.Forbidden, "url-not-allowed");
    }

    [SharedTheory]
    [InlineData("http://127.0.0.1:{0}/files/stack10.tif")]
    [InlineData("http://localhost:{0}/files/stack10.tif")]
    [InlineData("http://[::1]:{0}/files/stack10.tif")]
    [InlineData("http://169.254.169.254/latest/meta-data/x.tif")]
    [InlineData("http://10.1.2.3/a.tif")]
    public async Task PrivateAddressesAreRefusedByDefault(string template)
    {
        var port = new Uri(_server.BaseUrl).Port;
        using var factory = CloudMaskApiFactory.With(new Dictionary<string, string?>());
        using var client = factory.CreateClient();
        var url = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, port);
        using var response = await client.PostAsync("/mask?model=fast", Json(new { url }));
        await ProblemAssert.IsProblem(response, HttpStatusCode.Forbidden, "url-not-allowed");
    }

    [SharedFact]
    public async Task AllowListRefusesOtherPrefixes()
    {
        using var factory = CloudMaskApiFactory.With(new Dictionary<string, string?>
        {
            ["Remote:AllowPrivateNetworks"] = "true",
            ["Remote:AllowedPrefixes:0"] = _server.Url("files/"),
        });
        using var client = factory.CreateClient();
        using var ok = await client.PostAsync("/mask?model=fast&format=npy", Json(new { url = _server.Url("files/stack10.tif") }));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var refused = await client.PostAsync("/mask?model=fast", Json(new { url = _server.Url("docs/item.json") }));
        await ProblemAssert.IsProblem(refused, HttpStatusCode.Forbidden, "url-not-allowed");
    }

    private Dictionary<string, string> BandUrls(string prefix) =>
        BandNames.ToDictionary(b => b, b => _server.Url($"{prefix}/{b}.tif"));

    private async Task<float[]> MaskOf(HttpContent content)
    {
        using var response = await _client.PostAsync("/mask?model=fast&output=probability&format=npy", content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return Npy.Read(await response.Content.ReadAsByteArrayAsync()).AsSpan<float>().ToArray();
    }

    private static StringContent Json(object body) =>
        new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    /// <summary>The same pixels labelled EPSG:3857: a band on another CRS.</summary>
    private static byte[] Reprojected(string path)
    {
        using var src = GdalDataset.Open(path);
        var values = new ushort[src.Width * src.Height];
        src.Read<ushort>(1, 0, 0, src.Width, src.Height, values);
        using var ds = GdalDataset.CreateInMemory(src.Width, src.Height, 1, GdalDataType.UInt16);
        ds.Write<ushort>(1, 0, 0, src.Width, src.Height, values);
        ds.SetGeoTransform([445000, 20, 0, 5300000, 0, -20]);
        using var srs = SpatialReference.FromEpsg(3857);
        ds.ProjectionWkt = srs.ToWkt();
        return ds.EncodeTo("GTiff", "TILED=YES");
    }
}
