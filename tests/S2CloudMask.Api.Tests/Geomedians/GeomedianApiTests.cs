using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using S2CloudMask.Api.Tests.Support;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Tests.Geomedians;

/// <summary>
/// PUT / POST / GET / LIST / DELETE /geomedians against the service's own cache (disk + memory),
/// and /mask using a cached geomedian as the reference of fast-shadow.
/// </summary>
public sealed class GeomedianApiTests : IDisposable
{
    /// <summary>
    /// The geomedian is float64 Weiszfeld in both implementations, stopped at a step shorter than
    /// 1e-4; the stored values are float32. 1e-4 is the bound (measured: 0).
    /// </summary>
    private const double GeomedianTolerance = 1e-4;

    private readonly CloudMaskApiFactory _factory =
        CloudMaskApiFactory.With(new Dictionary<string, string?>(), wrightReference: false);

    private readonly HttpClient _client;

    public GeomedianApiTests() => _client = _factory.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [SharedFact]
    public async Task PostStackStoresGeomedianMatchingGolden()
    {
        using var response = await _client.PostAsync(
            "/geomedians/55HFA?scale=0.0001", Requests.Npy(File.ReadAllBytes(SharedData.Data("stack-wright.npy"))));

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        Assert.Equal("/geomedians/55HFA", response.Headers.Location?.OriginalString);
        var summary = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(100, summary.GetProperty("height").GetInt32());
        Assert.Equal(100, summary.GetProperty("width").GetInt32());
        Assert.Equal(10, summary.GetProperty("bands").GetInt32());
        Assert.Equal("post", summary.GetProperty("source").GetString());
        var s = summary.GetProperty("summary");
        Assert.Equal(30, s.GetProperty("dates").GetInt32());
        Assert.InRange(s.GetProperty("maxDatesUsed").GetInt32(), 1, 30);
        Assert.True(s.GetProperty("totalIterations").GetInt64() > 0);
        Assert.True(s.GetProperty("milliseconds").GetDouble() >= 0);

        var stored = await DownloadNpy("55HFA");
        var golden = Npy.Read(SharedData.Golden("geomedian-stack.npy"));
        Assert.Equal(golden.Shape, stored.Shape);
        var worst = MaxAbsDiff(golden.AsSpan<float>(), stored.AsSpan<float>());
        Assert.True(worst <= GeomedianTolerance, $"max |diff| {worst} > {GeomedianTolerance}");
    }

    [SharedFact]
    public async Task FastShadowWithCachedTileMatchesGolden()
    {
        var stack = File.ReadAllBytes(SharedData.Data("stack-wright.npy"));
        using (var post = await _client.PostAsync("/geomedians/wright-post?scale=0.0001", Requests.Npy(stack)))
        {
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        }

        using var response = await _client.PostAsync(
            "/mask?model=fast-shadow&tileId=wright-post&output=probability&format=npy&scale=0.0001", Requests.Npy(stack));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal("cached", response.Headers.GetValues("X-Reference").Single());
        var p = Npy.Read(await response.Content.ReadAsByteArrayAsync());
        AssertParity(Npy.Read(SharedData.Golden("fast-shadow-stack.npy")), p);
    }

    [SharedFact]
    public async Task StackWithUnknownTileComputesCachesAndClassifiesEveryDate()
    {
        var stack = File.ReadAllBytes(SharedData.Data("stack-wright.npy"));
        using var first = await _client.PostAsync("/mask?model=fast-shadow&tileId=T55HFA&output=probability&format=npy&scale=0.0001", Requests.Npy(stack));
        Assert.True(first.StatusCode == HttpStatusCode.OK, await first.Content.ReadAsStringAsync());
        Assert.Equal("computed", first.Headers.GetValues("X-Reference").Single());
        var p = Npy.Read(await first.Content.ReadAsByteArrayAsync());
        Assert.Equal([100, 100, 30], p.Shape);
        AssertParity(Npy.Read(SharedData.Golden("fast-shadow-stack.npy")), p);

        // Now cached: a single date with the tile uses it.
        var list = await _client.GetFromJsonAsync<JsonElement>("/geomedians");
        var entry = list.GetProperty("geomedians").EnumerateArray().Single(e => e.GetProperty("tileId").GetString() == "T55HFA");
        Assert.Equal("mask", entry.GetProperty("source").GetString());

        using var second = await _client.PostAsync(
            "/mask?model=fast-shadow&tileId=T55HFA&output=probability&format=npy&scale=0.0001&date=4", Requests.Npy(stack));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("cached", second.Headers.GetValues("X-Reference").Single());
    }

    [SharedFact]
    public async Task GeomedianSurvivesRestartWithSameCacheDirectory()
    {
        var directory = CloudMaskApiFactory.NewCacheDirectory();
        try
        {
            var settings = new Dictionary<string, string?> { ["Cache:Directory"] = directory };
            using (var first = CloudMaskApiFactory.With(settings, wrightReference: false))
            using (var client = first.CreateClient())
            using (var put = await client.PutAsync("/geomedians/restart", Requests.Npy(File.ReadAllBytes(SharedData.Golden("geomedian-stack.npy")))))
            {
                Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            }

            using var second = CloudMaskApiFactory.With(settings, wrightReference: false);
            using var client2 = second.CreateClient();
            var list = await client2.GetFromJsonAsync<JsonElement>("/geomedians?verify=true");
            var entry = list.GetProperty("geomedians").EnumerateArray().Single();
            Assert.Equal("restart", entry.GetProperty("tileId").GetString());
            Assert.False(entry.GetProperty("inMemory").GetBoolean());
            var back = Npy.Read(await client2.GetByteArrayAsync("/geomedians/restart?format=npy"));
            Assert.Equal(Npy.Read(SharedData.Golden("geomedian-stack.npy")).Data, back.Data);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [SharedTheory]
    [InlineData("flip")]
    [InlineData("truncate")]
    public async Task CorruptCacheFileIsDetectedDroppedAndReported(string damage)
    {
        using (var put = await _client.PutAsync("/geomedians/damaged", Requests.Npy(File.ReadAllBytes(SharedData.Golden("geomedian-stack.npy")))))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var path = Path.Combine(_factory.CacheDirectory, "geomedians", "damaged.s2gm");
        var bytes = File.ReadAllBytes(path);
        if (damage == "flip")
        {
            bytes[bytes.Length / 2] ^= 0x40;
            File.WriteAllBytes(path, bytes);
        }
        else
        {
            File.WriteAllBytes(path, bytes[..(bytes.Length - 1000)]);
        }

        // The memory copy is not served: its checksum no longer matches the file's.
        using var get = await _client.GetAsync("/geomedians/damaged?format=npy");
        var problem = await ProblemAssert.IsProblem(get, HttpStatusCode.NotFound, "geomedian-corrupt");
        Assert.Contains("damaged", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(path));

        var list = await _client.GetFromJsonAsync<JsonElement>("/geomedians");
        Assert.Empty(list.GetProperty("geomedians").EnumerateArray());
        Assert.Equal("damaged", list.GetProperty("dropped").EnumerateArray().Single().GetProperty("tileId").GetString());

        using var again = await _client.GetAsync("/geomedians/damaged");
        await ProblemAssert.IsProblem(again, HttpStatusCode.NotFound, "unknown-tile");
    }

    [SharedFact]
    public async Task CorruptFileFoundByListingIsDropped()
    {
        using (var put = await _client.PutAsync("/geomedians/listed", Requests.Npy(File.ReadAllBytes(SharedData.Golden("geomedian-stack.npy")))))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var path = Path.Combine(_factory.CacheDirectory, "geomedians", "listed.s2gm");
        var bytes = File.ReadAllBytes(path);
        bytes[^100] ^= 1;
        File.WriteAllBytes(path, bytes);

        var list = await _client.GetFromJsonAsync<JsonElement>("/geomedians?verify=true");
        Assert.Empty(list.GetProperty("geomedians").EnumerateArray());
        var dropped = list.GetProperty("dropped").EnumerateArray().Single();
        Assert.Equal("listed", dropped.GetProperty("tileId").GetString());
        Assert.Contains("checksum", dropped.GetProperty("reason").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [SharedFact]
    public async Task UnknownTileIs404NamingTheTileAndHowToCreateIt()
    {
        using var mask = await _client.PostAsync(
            "/mask?model=fast-shadow&tileId=31TDH&format=npy", Requests.Npy(File.ReadAllBytes(SharedData.Data("clear-wright-20160101.npy"))));
        var problem = await ProblemAssert.IsProblem(mask, HttpStatusCode.NotFound, "unknown-tile");
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("'31TDH'", detail, StringComparison.Ordinal);
        Assert.Contains("PUT /geomedians/31TDH", detail, StringComparison.Ordinal);

        using var get = await _client.GetAsync("/geomedians/31TDH");
        await ProblemAssert.IsProblem(get, HttpStatusCode.NotFound, "unknown-tile");
        using var delete = await _client.DeleteAsync("/geomedians/31TDH");
        await ProblemAssert.IsProblem(delete, HttpStatusCode.NotFound, "unknown-tile");
    }

    [Theory]
    [InlineData("a.b")]
    [InlineData("..")]
    [InlineData("%2E%2E%2Fetc")]
    [InlineData("x%5Cy")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123456789")]
    public async Task InvalidTileIdIsRejected(string tileId)
    {
        using var put = await _client.PutAsync($"/geomedians/{tileId}", Requests.Npy(new byte[16]));

        // ".." is normalised away by the client or routing and lands on /geomedians (404 / 405).
        if (put.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed))
        {
            await ProblemAssert.IsProblem(put, HttpStatusCode.BadRequest, "bad-tile-id");
        }

        using var mask = await _client.PostAsync($"/mask?model=fast&tileId={tileId}", Requests.Npy(new byte[16]));
        Assert.NotEqual(HttpStatusCode.OK, mask.StatusCode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_factory.CacheDirectory, "geomedians")));
    }

    [SharedFact]
    public async Task BadInputNeverReplacesACachedGeomedian()
    {
        var golden = File.ReadAllBytes(SharedData.Golden("geomedian-stack.npy"));
        using (var put = await _client.PutAsync("/geomedians/keep", Requests.Npy(golden)))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        using (var garbage = await _client.PutAsync("/geomedians/keep", Requests.Npy([0x93, (byte)'N', (byte)'U', 1, 2, 3])))
        {
            await ProblemAssert.IsProblem(garbage, HttpStatusCode.BadRequest, "malformed-npy");
        }

        using (var stack = await _client.PutAsync("/geomedians/keep", Requests.Npy(Rasters.StackDates(2))))
        {
            await ProblemAssert.IsProblem(stack, HttpStatusCode.BadRequest, "wrong-shape");
        }

        using (var single = await _client.PostAsync("/geomedians/keep", Requests.Npy(golden)))
        {
            await ProblemAssert.IsProblem(single, HttpStatusCode.BadRequest, "wrong-shape");
        }

        var back = Npy.Read(await _client.GetByteArrayAsync("/geomedians/keep?format=npy"));
        Assert.Equal(Npy.Read(golden).Data, back.Data);

        using var delete = await _client.DeleteAsync("/geomedians/keep");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await _client.GetAsync("/geomedians/keep");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [SharedFact]
    public async Task GeoreferencedObservationUsesTheMatchingWindowOfAGeoreferencedGeomedian()
    {
        var reference = Npy.Read(SharedData.Golden("geomedian-stack.npy"));
        using (var put = await _client.PutAsync("/geomedians/geo", Requests.Tiff(GeoTiff(reference, Rasters.GeoTransform))))
        {
            Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
            var info = await put.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal($"EPSG:{Rasters.Epsg}", info.GetProperty("crs").GetString());
            Assert.Equal([690000.0, 6089000.0, 691000.0, 6090000.0], info.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()));
        }

        // Rows 20..59, columns 10..69 of date 4, as a GeoTIFF whose origin says so.
        var dn = Rasters.PartlyCloudyDn();
        var window = Crop(dn, 20, 10, 40, 60);
        double[] transform = [690000 + 100, 10, 0, 6090000 - 200, 0, -10];
        using var response = await _client.PostAsync(
            "/mask?model=fast-shadow&tileId=geo&output=probability&format=npy", Requests.Tiff(GeoTiff(window, transform)));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var p = Npy.Read(await response.Content.ReadAsByteArrayAsync()).AsSpan<float>().ToArray();

        var expected = Rasters.Probability(
            "fast-shadow", BandImage.FromArray(window), Scaling.Resolve(ElementType.UInt16), BandImage.FromArray(Crop(reference, 20, 10, 40, 60)));
        Assert.Equal(expected, p);

        // Half a pixel off, outside, another pixel size: 422.
        foreach (var bad in new double[][]
        {
            [690000 + 105, 10, 0, 6090000 - 200, 0, -10],
            [690000 + 500, 10, 0, 6090000 - 200, 0, -10],
            [690000 + 100, 20, 0, 6090000 - 200, 0, -20],
        })
        {
            using var mismatch = await _client.PostAsync("/mask?model=fast-shadow&tileId=geo", Requests.Tiff(GeoTiff(window, bad)));
            await ProblemAssert.IsProblem(mismatch, HttpStatusCode.UnprocessableEntity, "reference-mismatch");
        }

        // Without georeferencing only the same size matches.
        using var npy = await _client.PostAsync("/mask?model=fast-shadow&tileId=geo", Requests.Npy(window));
        await ProblemAssert.IsProblem(npy, HttpStatusCode.UnprocessableEntity, "reference-mismatch");
    }

    [SharedFact]
    public async Task DownloadAsGeoTiffCarriesBandsNodataAndGeoreferencing()
    {
        var reference = Npy.Read(SharedData.Golden("geomedian-stack.npy"));
        using (var put = await _client.PutAsync("/geomedians/tif", Requests.Tiff(GeoTiff(reference, Rasters.GeoTransform))))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        using var response = await _client.GetAsync("/geomedians/tif");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/tiff", response.Content.Headers.ContentType?.MediaType);
        using var tiff = new OpenedRaster(await response.Content.ReadAsByteArrayAsync(), ".tif");
        Assert.Equal(10, tiff.Dataset.BandCount);
        Assert.Equal(Rasters.GeoTransform, tiff.Dataset.GetGeoTransform());
        Assert.Equal("B02", tiff.Dataset.GetDescription(1));
        Assert.Equal("B12", tiff.Dataset.GetDescription(10));
        var b04 = tiff.ReadFloats(3);
        var values = reference.AsSpan<float>();
        Assert.Equal(values[2], b04[0]);
        Assert.Equal(values[(((5 * 100) + 7) * 10) + 2], b04[(5 * 100) + 7]);
    }

    /// <summary>
    /// The parity tolerance: |dp| &lt;= 1e-4 on at least 99.9 % of pixels and masks
    /// (p &gt; 0.5) equal on at least 99.9 %, NaN exactly where the reference has NaN.
    /// </summary>
    private static void AssertParity(NdArray golden, NdArray actual)
    {
        Assert.Equal(golden.Shape, actual.Shape);
        var g = golden.AsSpan<float>();
        var a = actual.AsSpan<float>();
        long close = 0, same = 0;
        for (var i = 0; i < g.Length; i++)
        {
            Assert.Equal(float.IsNaN(g[i]), float.IsNaN(a[i]));
            close += float.IsNaN(g[i]) || Math.Abs(g[i] - a[i]) <= 1e-4 ? 1 : 0;
            same += (g[i] > 0.5f) == (a[i] > 0.5f) ? 1 : 0;
        }

        Assert.True(close >= 0.999 * g.Length, $"|dp| <= 1e-4 on {close} of {g.Length}");
        Assert.True(same >= 0.999 * g.Length, $"masks equal on {same} of {g.Length}");
    }

    private async Task<NdArray> DownloadNpy(string tileId)
    {
        using var response = await _client.GetAsync($"/geomedians/{tileId}?format=npy");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-npy", response.Content.Headers.ContentType?.MediaType);
        return Npy.Read(await response.Content.ReadAsByteArrayAsync());
    }

    private static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double worst = 0;
        for (var i = 0; i < a.Length; i++)
        {
            if (float.IsNaN(a[i]) != float.IsNaN(b[i]))
            {
                return double.PositiveInfinity;
            }

            if (!float.IsNaN(a[i]))
            {
                worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
            }
        }

        return worst;
    }

    private static NdArray Crop(NdArray array, int row, int col, int height, int width)
    {
        var (w, b, size) = (array.Shape[1], array.Shape[2], array.Type.Size());
        var data = new byte[height * width * b * size];
        for (var y = 0; y < height; y++)
        {
            array.Data.AsSpan((((row + y) * w) + col) * b * size, width * b * size).CopyTo(data.AsSpan(y * width * b * size));
        }

        return new NdArray(array.Type, [height, width, b], data);
    }

    /// <summary>A (y, x, band) uint16 or float32 array as a band-sequential GeoTIFF in EPSG:32755.</summary>
    private static byte[] GeoTiff(NdArray array, double[] transform)
    {
        var (h, w, b) = (array.Shape[0], array.Shape[1], array.Shape[2]);
        var isFloat = array.Type == ElementType.Float32;
        using var ds = GdalDataset.CreateInMemory(w, h, b, isFloat ? GdalDataType.Float32 : GdalDataType.UInt16);
        for (var band = 0; band < b; band++)
        {
            if (isFloat)
            {
                var src = array.AsSpan<float>();
                var plane = new float[h * w];
                for (var k = 0; k < plane.Length; k++)
                {
                    plane[k] = src[(k * b) + band];
                }

                ds.Write<float>(band + 1, 0, 0, w, h, plane);
            }
            else
            {
                var src = array.AsSpan<ushort>();
                var plane = new ushort[h * w];
                for (var k = 0; k < plane.Length; k++)
                {
                    plane[k] = src[(k * b) + band];
                }

                ds.Write<ushort>(band + 1, 0, 0, w, h, plane);
            }
        }

        ds.SetGeoTransform(transform);
        using (var srs = SpatialReference.FromEpsg(Rasters.Epsg))
        {
            ds.ProjectionWkt = srs.ToWkt();
        }

        return ds.EncodeTo("GTiff");
    }
}
