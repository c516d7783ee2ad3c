using System.Net;
using S2CloudMask.Api.Masks;
using S2CloudMask.Api.Tests.Support;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Tests;

/// <summary>
/// Every body kind with every output format, read back with the engine's own readers and
/// compared with what the engine answers for the same pixels when called directly.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class MaskApiTests(CloudMaskApiFactory factory)
{
    private static readonly Lazy<NdArray> Dn = new(Rasters.PartlyCloudyDn);

    private readonly HttpClient _client = factory.CreateClient();

    public static TheoryData<string, string, string> BodyFormatOutput()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var body in new[] { "npy", "tiff", "json", "form-npy", "form-tiff" })
        {
            foreach (var format in new[] { "geotiff", "png", "npy" })
            {
                foreach (var output in new[] { "mask", "probability" })
                {
                    data.Add(body, format, output);
                }
            }
        }

        return data;
    }

    [SharedTheory]
    [MemberData(nameof(BodyFormatOutput))]
    public async Task PostReturnsWhatTheEngineComputes(string body, string format, string output)
    {
        var dn = Dn.Value;
        var (h, w) = (dn.Shape[0], dn.Shape[1]);
        var expectedP = Rasters.Probability("fast", BandImage.FromArray(dn), Scaling.Resolve(ElementType.UInt16));
        var expectedMask = Rasters.Mask(expectedP, 0.5f);

        using var response = await _client.PostAsync(Url(body, format, output), Content(body, dn, format, output));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fast", response.Headers.GetValues("X-Model").Single());
        Assert.Equal(Rasters.CloudFraction(expectedMask), Requests.Header(response, "X-Cloud-Fraction"), 1e-6);
        Assert.InRange(Rasters.CloudFraction(expectedMask), 0.01, 0.99); // the scene has both
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var georeferenced = body.EndsWith("tiff", StringComparison.Ordinal);
        AssertGeoHeaders(response, georeferenced);

        switch (format)
        {
            case "npy":
                Assert.Equal("application/x-npy", response.Content.Headers.ContentType?.MediaType);
                var array = Npy.Read(bytes);
                Assert.Equal([h, w], array.Shape);
                if (output == "mask")
                {
                    Assert.Equal(ElementType.UInt8, array.Type);
                    Assert.Equal(expectedMask, array.AsSpan<byte>().ToArray());
                }
                else
                {
                    Assert.Equal(ElementType.Float32, array.Type);
                    Assert.Equal(expectedP, array.AsSpan<float>().ToArray());
                }

                break;

            case "geotiff":
                Assert.Equal("image/tiff", response.Content.Headers.ContentType?.MediaType);
                using (var tiff = new OpenedRaster(bytes, ".tif"))
                {
                    var ds = tiff.Dataset;
                    Assert.Equal("GTiff", ds.DriverName);
                    Assert.Equal((w, h, 1), (ds.Width, ds.Height, ds.BandCount));
                    if (output == "mask")
                    {
                        Assert.Equal(GdalDataType.Byte, ds.DataType(1));
                        Assert.Equal(255, ds.GetNoData(1));
                        Assert.Equal(expectedMask, tiff.ReadBytes(1));
                    }
                    else
                    {
                        Assert.Equal(GdalDataType.Float32, ds.DataType(1));
                        Assert.True(double.IsNaN(ds.GetNoData(1)!.Value));
                        Assert.Equal(expectedP, tiff.ReadFloats(1));
                    }

                    Assert.Equal((256, 256), ds.BlockSize(1)); // tiled
                    if (georeferenced)
                    {
                        Assert.Equal(Rasters.GeoTransform, ds.GetGeoTransform());
                        using var srs = ds.GetSpatialReference();
                        Assert.Equal($"EPSG:{Rasters.Epsg}", srs?.AuthorityId);
                    }
                    else
                    {
                        Assert.Null(ds.GetGeoTransform());
                        Assert.Equal("", ds.ProjectionWkt);
                    }
                }

                break;

            case "png":
                Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
                Assert.True(bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']));
                using (var png = new OpenedRaster(bytes, ".png"))
                {
                    Assert.Equal("PNG", png.Dataset.DriverName);
                    Assert.Equal((w, h, 1), (png.Dataset.Width, png.Dataset.Height, png.Dataset.BandCount));
                    var expected = output == "mask"
                        ? expectedMask.Select(m => m switch { 1 => MaskEncoder.PngCloud, 0 => (byte)0, _ => MaskEncoder.PngMaskNodata }).ToArray()
                        : expectedP.Select(p => float.IsNaN(p) ? (byte)255 : (byte)MathF.Round(Math.Clamp(p, 0f, 1f) * 100f)).ToArray();
                    Assert.Equal(expected, png.ReadBytes(1));
                    Assert.Equal(output == "mask" ? MaskEncoder.PngMaskNodata : 255, png.Dataset.GetNoData(1));
                }

                break;
        }
    }

    [SharedFact]
    public async Task PostClearNpyProbabilityMatchesGoldenSpectral()
    {
        var body = await File.ReadAllBytesAsync(SharedData.Data("clear-wright-20160101.npy"));

        using var response = await _client.PostAsync("/mask?model=spectral&output=probability&format=npy", Requests.Npy(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-npy", response.Content.Headers.ContentType?.MediaType);
        var array = Npy.Read(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(ElementType.Float32, array.Type);
        Assert.Equal([410, 565], array.Shape);
        var golden = Npy.Read(SharedData.Golden("spectral-clear.npy")).AsSpan<float>().ToArray();

        // Float rounding (log, summation order) moves probabilities by ~1e-7; 1e-4 on 99.9 % is
        // the parity the shared README sets for the engine, so the service must not lose any.
        Assert.True(ParityFraction(golden, array.AsSpan<float>().ToArray(), 1e-4) >= 0.999);
    }

    [SharedFact]
    public async Task PostClearNpyAsPngReturnsPng()
    {
        var body = await File.ReadAllBytesAsync(SharedData.Data("clear-wright-20160101.npy"));

        using var response = await _client.PostAsync("/mask?model=spectral&output=probability&format=png", Requests.Npy(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        using var png = new OpenedRaster(await response.Content.ReadAsByteArrayAsync(), ".png");
        Assert.Equal(("PNG", 565, 410), (png.Dataset.DriverName, png.Dataset.Width, png.Dataset.Height));
    }

    [SharedFact]
    public async Task PostStack10TifReturnsGeoTiffMaskWithSameGeoreferencing()
    {
        var path = Path.Combine(SharedData.Root, "data", "t31tdh-20150726", "stack10.tif");
        var body = await File.ReadAllBytesAsync(path);

        using var response = await _client.PostAsync("/mask", Requests.Tiff(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/tiff", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("spectral", response.Headers.GetValues("X-Model").Single());
        Assert.Equal("<http://www.opengis.net/def/crs/EPSG/0/32631>", response.Headers.GetValues("Content-Crs").Single());
        Assert.Equal("399960,4690200,402960,4693200", response.Headers.GetValues("Content-Bbox").Single());

        using var source = GdalDataset.Open(path);
        var dn = new ushort[source.BandCount * source.Width * source.Height];
        source.ReadBands<ushort>([.. Enumerable.Range(1, source.BandCount)], 0, 0, source.Width, source.Height, dn);
        var image = BandImage.Planar(NdArray.Create(dn, dn.Length).Data, ElementType.UInt16, source.BandCount, source.Height, source.Width);
        var expected = Rasters.Mask(Rasters.Probability("spectral", image, Scaling.Resolve(ElementType.UInt16)), 0.5f);

        var encoded = await response.Content.ReadAsByteArrayAsync();
        Assert.True(encoded.Length < source.Width * source.Height / 4, $"a DEFLATE mask of a mostly clear scene is small, got {encoded.Length} bytes");
        using var mask = new OpenedRaster(encoded, ".tif");
        Assert.Equal((source.Width, source.Height, 1), (mask.Dataset.Width, mask.Dataset.Height, mask.Dataset.BandCount));
        Assert.Equal(source.GetGeoTransform(), mask.Dataset.GetGeoTransform());
        using var inCrs = source.GetSpatialReference()!;
        using var outCrs = mask.Dataset.GetSpatialReference()!;
        Assert.True(inCrs.IsSame(outCrs));
        Assert.Equal(expected, mask.ReadBytes(1));
        Assert.Equal(Rasters.CloudFraction(expected), Requests.Header(response, "X-Cloud-Fraction"), 1e-6);
    }

    [SharedFact]
    public async Task UploadedStack10TifProbabilityMatchesGolden()
    {
        var body = await File.ReadAllBytesAsync(Path.Combine(SharedData.Root, "data", "t31tdh-20150726", "stack10.tif"));

        using var response = await _client.PostAsync(
            "/mask",
            Requests.Form(body, "stack10.tif", ("model", "spectral"), ("output", "probability"), ("format", "npy")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var array = Npy.Read(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal([300, 300], array.Shape);
        var golden = Npy.Read(SharedData.Golden("spectral-t31tdh.npy")).AsSpan<float>().ToArray();
        Assert.True(ParityFraction(golden, array.AsSpan<float>().ToArray(), 1e-4) >= 0.999);
    }

    [SharedTheory]
    [InlineData("image/png", "image/png")]
    [InlineData("application/x-npy", "application/x-npy")]
    [InlineData("image/tiff", "image/tiff")]
    [InlineData("text/html, image/png;q=0.9, */*;q=0.1", "image/png")]
    [InlineData(null, "image/tiff")]
    public async Task AcceptHeaderChoosesTheFormatWhenFormatIsAbsent(string? accept, string expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mask?model=fast") { Content = Requests.Npy(Dn.Value) };
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.Content.Headers.ContentType?.MediaType);
    }

    [SharedFact]
    public async Task PostStackReturnsOneBandPerDateAndYxtArray()
    {
        var stack = new BandStack(Rasters.StackDates(3));
        var scaling = Scaling.Resolve(ElementType.Float32, 1e-4);
        var expected = Enumerable.Range(0, 3)
            .Select(t => Rasters.Mask(Rasters.Probability("fast", stack.Date(t), scaling), 0.5f))
            .ToArray();
        var pixels = stack.Height * stack.Width;

        using (var response = await _client.PostAsync("/mask?model=fast&scale=0.0001&format=geotiff", Requests.Npy(stack.Array)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var tiff = new OpenedRaster(await response.Content.ReadAsByteArrayAsync(), ".tif");
            Assert.Equal(3, tiff.Dataset.BandCount);
            for (var t = 0; t < 3; t++)
            {
                Assert.Equal(expected[t], tiff.ReadBytes(t + 1));
            }

            var all = expected.SelectMany(m => m).ToArray();
            Assert.Equal(Rasters.CloudFraction(all), Requests.Header(response, "X-Cloud-Fraction"), 1e-6);
        }

        using (var response = await _client.PostAsync("/mask?model=fast&scale=0.0001&format=npy", Requests.Npy(stack.Array)))
        {
            var array = Npy.Read(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal([stack.Height, stack.Width, 3], array.Shape);
            var values = array.AsSpan<byte>().ToArray();
            for (var t = 0; t < 3; t++)
            {
                Assert.Equal(expected[t], Enumerable.Range(0, pixels).Select(k => values[(k * 3) + t]).ToArray());
            }
        }

        using (var response = await _client.PostAsync("/mask?model=fast&scale=0.0001&format=png&date=2", Requests.Npy(stack.Array)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var png = new OpenedRaster(await response.Content.ReadAsByteArrayAsync(), ".png");
            Assert.Equal(expected[2].Select(m => m switch { 1 => (byte)255, 0 => (byte)0, _ => (byte)128 }).ToArray(), png.ReadBytes(1));
        }
    }

    [SharedFact]
    public async Task ClassesCombineCloudAndShadowAgainstTheTilesGeomedian()
    {
        var stack = new BandStack(Rasters.StackDates(6));
        var scaling = Scaling.Resolve(ElementType.Float32, 1e-4);
        var reference = BandImage.FromArray(Npy.Read(SharedData.Golden("geomedian-stack.npy")));
        var shadowModel = Rasters.Model("fast-shadow");
        var pixels = stack.Height * stack.Width;
        var url = $"/mask?model=fast&shadowModel=fast-shadow&output=classes&tileId={WrightReferenceProvider.TileId}&scale=0.0001";

        using var response = await _client.PostAsync(url + "&format=npy", Requests.Npy(stack.Array));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fast-shadow", response.Headers.GetValues("X-Shadow-Model").Single());
        var values = Npy.Read(await response.Content.ReadAsByteArrayAsync()).AsSpan<byte>().ToArray();
        var counts = new int[3];
        for (var t = 0; t < 6; t++)
        {
            var classes = Rasters.Mask(Rasters.Probability("fast", stack.Date(t), scaling), 0.5f);
            var shadow = Rasters.Mask(Rasters.Probability(shadowModel, stack.Date(t), scaling, reference), shadowModel.Threshold);
            MaskComputation.Combine(classes, shadow);
            Assert.Equal(classes, Enumerable.Range(0, pixels).Select(k => values[(k * 6) + t]).ToArray());
            foreach (var c in classes.Where(c => c < 3))
            {
                counts[c]++;
            }
        }

        Assert.All(counts, c => Assert.True(c > 0, "expected clear, cloud and shadow pixels among the dates"));

        using var pngResponse = await _client.PostAsync(url + "&format=png&date=4", Requests.Npy(stack.Array));
        Assert.Equal(HttpStatusCode.OK, pngResponse.StatusCode);
        using var png = new OpenedRaster(await pngResponse.Content.ReadAsByteArrayAsync(), ".png");
        var palette = png.Dataset.GetColorTable(1);
        Assert.NotNull(palette);
        Assert.Equal(0, palette[0].A);                          // clear: transparent
        Assert.Equal(((byte)255, (byte)255, (byte)255, (byte)255), palette[1]); // cloud: white
        Assert.Equal(((byte)64, (byte)64, (byte)64, (byte)255), palette[2]);    // shadow: dark grey
    }

    [SharedFact]
    public async Task PostJsonExampleFromTheDocumentIsCloudy()
    {
        using var content = new StringContent(S2CloudMask.Api.Extensions.MaskUploadFilter.JsonExample, System.Text.Encoding.UTF8, "application/json");

        using var response = await _client.PostAsync("/mask?format=npy", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([1, 1], Npy.Read(await response.Content.ReadAsByteArrayAsync()).AsSpan<byte>().ToArray());
        Assert.Equal("1", response.Headers.GetValues("X-Cloud-Fraction").Single());
    }

    private static string Url(string body, string format, string output) => body switch
    {
        "json" => $"/mask?model=fast&output={output}&format={format}&scale=0.0001&nodata=0",
        "form-npy" or "form-tiff" => "/mask?model=spectral", // the form fields override
        _ => $"/mask?model=fast&output={output}&format={format}",
    };

    private static HttpContent Content(string body, NdArray dn, string format, string output) => body switch
    {
        "npy" => Requests.Npy(dn),
        "tiff" => Requests.Tiff(Rasters.ToGeoTiff(dn)),
        "json" => Requests.Json(dn),
        "form-npy" => Requests.Form(Npy.ToBytes(dn), "scene.npy", ("model", "fast"), ("output", output), ("format", format)),
        "form-tiff" => Requests.Form(Rasters.ToGeoTiff(dn), "scene.tif", ("model", "fast"), ("output", output), ("format", format)),
        _ => throw new ArgumentOutOfRangeException(nameof(body)),
    };

    private static void AssertGeoHeaders(HttpResponseMessage response, bool georeferenced)
    {
        if (georeferenced)
        {
            Assert.Equal($"<http://www.opengis.net/def/crs/EPSG/0/{Rasters.Epsg}>", response.Headers.GetValues("Content-Crs").Single());
            Assert.Equal("690000,6089000,691000,6090000", response.Headers.GetValues("Content-Bbox").Single());
        }
        else
        {
            Assert.False(response.Headers.Contains("Content-Crs"));
            Assert.False(response.Headers.Contains("Content-Bbox"));
        }
    }

    private static double ParityFraction(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var ok = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            ok += (float.IsNaN(e) && float.IsNaN(a)) || Math.Abs(e - a) <= tolerance ? 1 : 0;
        }

        return (double)ok / expected.Length;
    }
}
