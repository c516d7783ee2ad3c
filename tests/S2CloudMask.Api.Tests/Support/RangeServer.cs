using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace S2CloudMask.Api.Tests.Support;

/// <summary>
/// A small Kestrel server on 127.0.0.1 (a free port) serving files of a folder with Range
/// support, as object storage serves COGs, and counting the bytes of every GET. Paths:
/// <c>/files/NAME</c> the file; <c>/status/CODE/NAME</c> always that status;
/// <c>/slow/MS/NAME</c> the file after a delay; <c>/slowtiles/MS/NAME</c> the same but for
/// requests of the file's first bytes (the header), at once (<see cref="MostSlowFilesAtOnce"/>); <c>/text/NAME</c> a text body;
/// <c>/docs/NAME</c> a document registered with <see cref="Put"/> (STAC items, generated COGs).
/// </summary>
public sealed class RangeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (byte[] Body, string Type)> _docs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _agents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _slow = new(StringComparer.Ordinal);
    private int _mostSlowFiles;

    private RangeServer(WebApplication app, string folder)
    {
        _app = app;
        Folder = folder;
    }

    public string Folder { get; }

    public string BaseUrl { get; private set; } = "";

    public static async Task<RangeServer> StartAsync(string folder)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new RangeServer(app, folder);
        app.Use(async (context, next) =>
        {
            await next(context);
            if (HttpMethods.IsGet(context.Request.Method))
            {
                var name = Path.GetFileName(context.Request.Path.Value ?? "");
                server._bytes.AddOrUpdate(name, context.Response.ContentLength ?? 0, (_, v) => v + (context.Response.ContentLength ?? 0));
                server._requests.AddOrUpdate(name, 1, (_, v) => v + 1);
                server._agents.GetOrAdd(name, _ => new ConcurrentDictionary<string, bool>(StringComparer.Ordinal))[context.Request.Headers.UserAgent.ToString()] = true;
            }
        });
        // HEAD too: GDAL's /vsicurl/ asks for the size with HEAD before its range requests.
        app.MapMethods("/files/{name}", ["GET", "HEAD"], (string name) => server.File(name));
        app.MapGet("/status/{code:int}/{name}", (int code, string name) => Results.StatusCode(code));
        app.MapGet("/slow/{ms:int}/{name}", (int ms, string name, CancellationToken ct) => server.SlowFile(name, ms, ct));
        app.MapMethods("/slowtiles/{ms:int}/{name}", ["GET", "HEAD"], (int ms, string name, HttpRequest request, CancellationToken ct) =>
            server.SlowFile(name, request.Headers.Range.ToString().StartsWith("bytes=0-", StringComparison.Ordinal) || HttpMethods.IsHead(request.Method) ? 0 : ms, ct));
        app.MapGet("/text/{name}", (string name) => Results.Text("<html>not a tiff</html>", "text/html"));
        app.MapMethods("/docs/{name}", ["GET", "HEAD"], (string name) =>
            server._docs.TryGetValue(name, out var doc)
                ? Results.Bytes(doc.Body, doc.Type, enableRangeProcessing: true)
                : Results.NotFound());
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = address.TrimEnd('/');
        return server;
    }

    public string Url(string path) => $"{BaseUrl}/{path.TrimStart('/')}";

    /// <summary>Serves <paramref name="body"/> at /docs/NAME.</summary>
    public string Put(string name, byte[] body, string type)
    {
        _docs[name] = (body, type);
        return Url("docs/" + name);
    }

    /// <summary>Bytes sent in GET responses for files of this name (any path), since start.</summary>
    public long BytesServed(string name) => _bytes.TryGetValue(name, out var v) ? v : 0;

    public int Requests(string name) => _requests.TryGetValue(name, out var v) ? v : 0;

    /// <summary>The User-Agent headers of the GETs for files of this name (any path), since start.</summary>
    public IReadOnlyCollection<string> UserAgents(string name) => _agents.TryGetValue(name, out var v) ? [.. v.Keys] : [];

    /// <summary>The most files whose requests on /slow/ or /slowtiles/ paths were being answered at once, since start.</summary>
    public int MostSlowFilesAtOnce
    {
        get
        {
            lock (_slow)
            {
                return _mostSlowFiles;
            }
        }
    }

    /// <summary>The file after <paramref name="ms"/> milliseconds, counting the files answered at once.</summary>
    private async Task<IResult> SlowFile(string name, int ms, CancellationToken ct)
    {
        lock (_slow)
        {
            _slow[name] = _slow.GetValueOrDefault(name) + 1;
            _mostSlowFiles = Math.Max(_mostSlowFiles, _slow.Count);
        }

        try
        {
            await Task.Delay(ms, ct);
            return File(name);
        }
        finally
        {
            lock (_slow)
            {
                if (--_slow[name] == 0)
                {
                    _slow.Remove(name);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private IResult File(string name)
    {
        var path = Path.Combine(Folder, Path.GetFileName(name));
        return System.IO.File.Exists(path)
            ? Results.File(path, "image/tiff", enableRangeProcessing: true)
            : Results.NotFound();
    }
}
