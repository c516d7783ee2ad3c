using System.Net;
using System.Text;
using S2CloudMask.Api.Classification;
using S2CloudMask.Api.Tests.Support;
using S2CloudMask.Engine.Raster;
using Microsoft.Extensions.DependencyInjection;

namespace S2CloudMask.Api.Tests;

/// <summary>One test per kind of bad input: a problem response with the right status and type, never a 500.</summary>
[Collection(ApiCollection.Name)]
public sealed class ProblemTests(CloudMaskApiFactory factory)
{
    private readonly HttpClient _client = factory.CreateClient();

    private static NdArray Small(int bands) => NdArray.Zeros(ElementType.Float32, 4, 4, bands);

    [SharedFact]
    public async Task UnknownModelIsUnknownModelProblem()
    {
        using var response = await _client.PostAsync("/mask?model=nope", Requests.Npy(Small(10)));
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "unknown-model");
        Assert.Contains("nope", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [SharedFact]
    public async Task GetUnknownModelIsNotFound()
    {
        using var response = await _client.GetAsync("/models/nope");
        await ProblemAssert.IsProblem(response, HttpStatusCode.NotFound, "unknown-model");
    }

    [SharedFact]
    public async Task WrongBandCountIsWrongBandCountProblem()
    {
        using var response = await _client.PostAsync("/mask?model=fast", Requests.Npy(Small(9)));
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "wrong-band-count");
    }

    [SharedFact]
    public async Task UnsupportedDtypeIsUnsupportedDtypeProblem()
    {
        using var response = await _client.PostAsync("/mask", Requests.Npy(Requests.NpyBytes("<i4", "(4, 4, 10)", false, 4 * 160)));
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "unsupported-dtype");
    }

    [SharedFact]
    public async Task FortranOrderNpyIsFortranOrderProblem()
    {
        using var response = await _client.PostAsync("/mask", Requests.Npy(Requests.NpyBytes("<f4", "(4, 4, 10)", true, 4 * 160)));
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "fortran-order");
    }

    [SharedFact]
    public async Task MalformedNpyIsMalformedNpyProblem()
    {
        using var response = await _client.PostAsync("/mask", Requests.Npy(Encoding.ASCII.GetBytes("this is not a numpy file at all")));
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "malformed-npy");
    }

    [SharedFact]
    public async Task TruncatedNpyIsMalformedNpyProblem()
    {
        var bytes = Npy.ToBytes(Small(10));
        using var response = await _client.PostAsync("/mask", Requests.Npy(bytes[..(bytes.Length - 100)]));
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "malformed-npy");
        Assert.Contains("truncated", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [SharedFact]
    public async Task TiffGdalCannotReadIsUnreadableTiffProblem()
    {
        byte[] bytes = [(byte)'I', (byte)'I', 42, 0, 0xFF, 0xFF, 0xFF, 0x7F, .. Encoding.ASCII.GetBytes("garbage garbage garbage")];
        using var response = await _client.PostAsync("/mask", Requests.Tiff(bytes));
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "unreadable-tiff");
    }

    [SharedFact]
    public async Task NonTiffSentAsTiffIsUnreadableTiffProblem()
    {
        using var response = await _client.PostAsync("/mask", Requests.Tiff(Encoding.ASCII.GetBytes("<VRTDataset rasterXSize=\"1\"/>")));
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "unreadable-tiff");
    }

    [SharedFact]
    public async Task JsonDataNotMatchingShapeIsWrongShapeProblem()
    {
        using var content = new StringContent("""{"shape": [1, 2, 10], "data": [0.1, 0.2, 0.3]}""", Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync("/mask", content);
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "wrong-shape");
    }

    [SharedFact]
    public async Task MalformedJsonIsMalformedJsonProblem()
    {
        using var content = new StringContent("""{"shape": [1, 2, 10], "data": [0.1, """, Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync("/mask", content);
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "malformed-json");
    }

    [SharedFact]
    public async Task SpectralTemporalModelWithoutReferenceIsMissingReferenceProblem()
    {
        using var response = await _client.PostAsync("/mask?model=fast-shadow&tileId=nowhere", Requests.Npy(Small(10)));
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "missing-reference");
        Assert.Contains("fast-shadow", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [SharedFact]
    public async Task ReferenceOfAnotherSizeIsReferenceMismatchProblem()
    {
        using var response = await _client.PostAsync($"/mask?model=fast-shadow&tileId={WrightReferenceProvider.TileId}", Requests.Npy(Small(10)));
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "reference-mismatch");
    }

    [SharedFact]
    public async Task StackAsPngIsPngOneDateProblem()
    {
        using var response = await _client.PostAsync("/mask?format=png", Requests.Npy(NdArray.Zeros(ElementType.Float32, 4, 4, 10, 3)));
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "png-one-date");
        Assert.Contains("date=", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [SharedFact]
    public async Task EmptyBodyIsEmptyBodyProblem()
    {
        using var response = await _client.PostAsync("/mask", Requests.Npy([]));
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "empty-body");
    }

    [SharedFact]
    public async Task NoBodyAtAllIsEmptyBodyProblem()
    {
        using var response = await _client.PostAsync("/mask", null);
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "empty-body");
    }

    [SharedFact]
    public async Task UnsupportedContentTypeIs415()
    {
        using var content = new StringContent("hello", Encoding.UTF8, "text/plain");
        using var response = await _client.PostAsync("/mask", content);
        await ProblemAssert.IsProblem(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [SharedFact]
    public async Task UploadedFileOfUnknownFormatIs415()
    {
        using var response = await _client.PostAsync("/mask", Requests.Form(Encoding.ASCII.GetBytes("hello"), "hello.txt"));
        await ProblemAssert.IsProblem(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [SharedFact]
    public async Task FormWithoutFileIsMissingFileProblem()
    {
        using var form = new MultipartFormDataContent { { new StringContent("fast"), "model" } };
        using var response = await _client.PostAsync("/mask", form);
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, "missing-file");
    }

    [SharedTheory]
    [InlineData("/mask?output=outline", "bad-parameter")]
    [InlineData("/mask?format=jpeg", "bad-parameter")]
    [InlineData("/mask?threshold=2", "bad-parameter")]
    [InlineData("/mask?output=classes", "bad-parameter")]
    [InlineData("/mask?date=3", "bad-parameter")]
    [InlineData("/mask?scale=abc", "bad-request")]
    [InlineData("/mask?scale=-1", "bad-scaling")]
    public async Task BadParameterIsBadRequestProblem(string url, string code)
    {
        using var response = await _client.PostAsync(url, Requests.Npy(Small(10)));
        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest, code);
    }

    [SharedFact]
    public async Task UnknownRouteIsProblemJson()
    {
        using var response = await _client.GetAsync("/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>Limits and the admission gate, each with its own configuration.</summary>
public sealed class LimitTests
{
    [SharedFact]
    public async Task BodyOverTheLimitIs413()
    {
        using var factory = CloudMaskApiFactory.With(new Dictionary<string, string?> { ["Limits:MaxBodyBytes"] = "1000" });
        using var client = factory.CreateClient();

        using var response = await client.PostAsync("/mask", Requests.Npy(NdArray.Zeros(ElementType.Float32, 10, 10, 10)));
        await ProblemAssert.IsProblem(response, HttpStatusCode.RequestEntityTooLarge, "too-large");

        using var form = await client.PostAsync("/mask", Requests.Form(Npy.ToBytes(NdArray.Zeros(ElementType.Float32, 10, 10, 10)), "a.npy"));
        await ProblemAssert.IsProblem(form, HttpStatusCode.RequestEntityTooLarge, "too-large");
    }

    [SharedFact]
    public async Task MorePixelsThanTheLimitIs413()
    {
        using var factory = CloudMaskApiFactory.With(new Dictionary<string, string?> { ["Limits:MaxPixels"] = "50" });
        using var client = factory.CreateClient();

        using var npy = await client.PostAsync("/mask", Requests.Npy(NdArray.Zeros(ElementType.Float32, 10, 10, 10)));
        await ProblemAssert.IsProblem(npy, HttpStatusCode.RequestEntityTooLarge, "too-large");

        using var stack = await client.PostAsync("/mask", Requests.Npy(NdArray.Zeros(ElementType.Float32, 5, 5, 10, 3)));
        await ProblemAssert.IsProblem(stack, HttpStatusCode.RequestEntityTooLarge, "too-large");

        using var tiff = await client.PostAsync("/mask", Requests.Tiff(Rasters.ToGeoTiff(NdArray.Zeros(ElementType.UInt16, 10, 10, 10))));
        await ProblemAssert.IsProblem(tiff, HttpStatusCode.RequestEntityTooLarge, "too-large");
    }

    [SharedFact]
    public async Task AllWorkersBusyAndQueueFullIs503WithRetryAfter()
    {
        using var factory = CloudMaskApiFactory.With(new Dictionary<string, string?>
        {
            ["Engine:Workers"] = "1",
            ["Engine:QueueLength"] = "0",
            ["Engine:RetryAfterSeconds"] = "7",
        });
        using var client = factory.CreateClient();
        var pool = factory.Services.GetRequiredService<ClassifierPool>();

        using (pool.Admit())
        {
            using var response = await client.PostAsync("/mask?model=fast", Requests.Npy(NdArray.Zeros(ElementType.Float32, 4, 4, 10)));
            await ProblemAssert.IsProblem(response, HttpStatusCode.ServiceUnavailable, "busy");
            Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
        }

        using var after = await client.PostAsync("/mask?model=fast", Requests.Npy(NdArray.Zeros(ElementType.Float32, 4, 4, 10)));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(0, pool.Admitted);
    }
}
