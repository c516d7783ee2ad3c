using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;
using S2CloudMask.Api.Extensions;
using S2CloudMask.Api.Models;
using S2CloudMask.Api.Tests.Support;

namespace S2CloudMask.Api.Tests;

[Collection(ApiCollection.Name)]
public sealed class ServiceTests(CloudMaskApiFactory factory)
{
    private readonly HttpClient _client = factory.CreateClient();

    [SharedFact]
    public async Task ListModelsDescribesTheSharedModels()
    {
        using var response = await _client.GetAsync("/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var models = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        // The shared fast and spectral replace the built-in ones of the same name; temporal is built in.
        Assert.Equal(["fast", "fast-shadow", "spectral", "temporal"], models.EnumerateArray().Select(m => m.GetProperty("name").GetString()!).ToArray());
        var temporal = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "temporal");
        Assert.StartsWith("embedded:", temporal.GetProperty("origin").GetString(), StringComparison.Ordinal);
        var shadow = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "fast-shadow");
        Assert.True(shadow.GetProperty("needsReference").GetBoolean());
        Assert.Equal("shadow", shadow.GetProperty("target").GetString());
    }

    [SharedFact]
    public async Task GetModelReportsEnsembleOpeningAndProvenance()
    {
        using var response = await _client.GetAsync("/models/spectral");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var model = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("xgboost-json", model.GetProperty("kind").GetString());
        Assert.Equal(10, model.GetProperty("bands").GetArrayLength());
        Assert.Equal(9, model.GetProperty("features").GetArrayLength());
        Assert.False(model.GetProperty("needsReference").GetBoolean());
        Assert.Equal("cloud", model.GetProperty("target").GetString());
        Assert.Equal(3, model.GetProperty("postprocess").GetProperty("opening").GetInt32());
        Assert.Equal(0.5, model.GetProperty("threshold").GetDouble());
        Assert.Equal(200, model.GetProperty("trees").GetProperty("count").GetInt32());
        Assert.True(model.GetProperty("trees").GetProperty("maxDepth").GetInt32() > 0);
        Assert.Equal(SharedData.Model("spectral"), model.GetProperty("origin").GetString());
        Assert.Equal("daleroberts/s2cloudmask", model.GetProperty("source").GetProperty("repository").GetString());
    }

    [SharedFact]
    public async Task HealthzReportsServiceDotnetAndGdalVersions()
    {
        using var response = await _client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("alive", health.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(health.GetProperty("version").GetString()));
        Assert.Equal(Environment.Version.ToString(), health.GetProperty("dotnet").GetString());
        Assert.Equal(S2CloudMask.Engine.Gdal.Gdal.Version, health.GetProperty("gdal").GetString());
    }

    [SharedFact]
    public async Task ReadyzIsReadyWithModelsAndGdal()
    {
        using var response = await _client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ready = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(ready.GetProperty("gdalInitialized").GetBoolean());
        Assert.Equal(4, ready.GetProperty("models").GetArrayLength());
    }

    [SharedFact]
    public async Task RootRedirectsToSwagger()
    {
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/swagger", response.Headers.Location?.OriginalString);
    }

    [SharedFact]
    public async Task SwaggerUiIsServed()
    {
        using var response = await _client.GetAsync("/swagger/index.html");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [SharedFact]
    public async Task OpenApiDocumentShowsMaskOptionsWithDefaultsAndUploads()
    {
        using var response = await _client.GetAsync("/swagger/v1/swagger.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var post = doc.GetProperty("paths").GetProperty("/mask").GetProperty("post");
        var parameters = post.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(
            ["date", "format", "model", "nodata", "offset", "output", "scale", "shadowModel", "threshold", "tileId"],
            parameters.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.All(parameters.Values, p => Assert.False(string.IsNullOrEmpty(p.GetProperty("description").GetString())));
        Assert.Equal("spectral", parameters["model"].GetProperty("schema").GetProperty("default").GetString());
        Assert.Equal("mask", parameters["output"].GetProperty("schema").GetProperty("default").GetString());
        Assert.Equal(
            ["mask", "probability", "classes"],
            parameters["output"].GetProperty("schema").GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).ToArray());

        var content = post.GetProperty("requestBody").GetProperty("content");
        foreach (var media in new[] { "application/x-npy", "image/tiff", "application/json", "multipart/form-data", "application/octet-stream" })
        {
            Assert.True(content.TryGetProperty(media, out _), media);
        }

        var file = content.GetProperty("multipart/form-data").GetProperty("schema").GetProperty("properties").GetProperty("file");
        Assert.Equal("binary", file.GetProperty("format").GetString());
        Assert.Equal(10, content.GetProperty("application/json").GetProperty("example").GetProperty("shape").EnumerateArray().Last().GetInt32());
    }

    [Fact]
    public void BuiltInModelsLoadWithoutFiles()
    {
        // The trainer fills Models/BuiltIn later; until then there are none, and that is fine.
        var models = BuiltInModels.Load();
        Assert.All(models, m => Assert.StartsWith("embedded:", m.Origin, StringComparison.Ordinal));
    }
}

public sealed class ReadinessTests
{
    [Fact]
    public async Task ReadyzIs503WithoutModels()
    {
        using var factory = CloudMaskApiFactory.With(new Dictionary<string, string?> { ["Models:IncludeBuiltIn"] = "false" }, withSharedModels: false);
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var ready = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("no models loaded", ready.GetProperty("problems").EnumerateArray().Select(p => p.GetString()));

        using var alive = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task FreshStartOffersTheBuiltInModelsWithProvenanceAndMetrics()
    {
        using var factory = CloudMaskApiFactory.With(new Dictionary<string, string?>(), withSharedModels: false);
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var models = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
        Assert.Equal(["fast", "spectral", "temporal"], models.Select(m => m.GetProperty("name").GetString()!).ToArray());
        foreach (var m in models)
        {
            Assert.StartsWith("embedded:", m.GetProperty("origin").GetString(), StringComparison.Ordinal);
            var metadata = m.GetProperty("metadata");
            Assert.True(metadata.TryGetProperty("metrics", out _), $"{m.GetProperty("name")} has no metrics");
        }

        Assert.True(models.Single(m => m.GetProperty("name").GetString() == "temporal").GetProperty("needsReference").GetBoolean());
    }

    /// <summary>The engine's registration alone (see <see cref="StartFailure"/>).</summary>
    [Fact]
    public async Task MissingModelDirectoryStopsStartNamingIt()
    {
        var error = await StartFailure.Of(
            new Dictionary<string, string?> { ["Models:Directories:0"] = "/no/such/models" }, services => services.AddCloudMaskEngine());

        Assert.IsType<OptionsValidationException>(error);
        Assert.Contains("/no/such/models", error.Message, StringComparison.Ordinal);
    }
}
