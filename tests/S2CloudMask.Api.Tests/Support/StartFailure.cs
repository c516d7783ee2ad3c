using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace S2CloudMask.Api.Tests.Support;

/// <summary>
/// Starts some of the service's registrations in a host of their own (an in-memory server)
/// and returns what the start threw, or null. For start-up checks: through
/// WebApplicationFactory, Program starts on a thread of its own, and when that start fails
/// the factory sometimes reached the disposed host first, so a test saw an
/// ObjectDisposedException instead of the start's error (in one of two fresh-clone CI runs).
/// </summary>
public static class StartFailure
{
    public static async Task<Exception?> Of(IDictionary<string, string?> settings, Action<IServiceCollection> register)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(settings);
        register(builder.Services);
        await using var app = builder.Build();
        try
        {
            await app.StartAsync();
            await app.StopAsync();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
