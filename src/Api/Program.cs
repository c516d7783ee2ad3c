using S2CloudMask.Api.Extensions;
using S2CloudMask.Api.Geomedians;
using S2CloudMask.Api.Health;
using S2CloudMask.Api.Masks;
using S2CloudMask.Api.Models;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceLogging();
builder.AddRequestLimits();
builder.Services.AddRemoteSources();
builder.Services.AddGeomedianCache();
builder.Services.AddCloudMaskEngine();
builder.Services.AddProblemResponses();
builder.Services.AddApiDocumentation();

var app = builder.Build();

app.UseServiceRequestLogging();
app.UseProblemResponses();
app.UseApiDocumentation();

app.MapHealthApi();
app.MapModelsApi();
app.MapMasksApi();
app.MapGeomediansApi();

app.Run();

/// <summary>The service entry point; public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
