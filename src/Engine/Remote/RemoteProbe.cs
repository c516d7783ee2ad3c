using System.Net;
using System.Net.Sockets;

namespace S2CloudMask.Engine.Remote;

/// <summary>
/// Checks a remote source before GDAL reads it: the policy (again at connect time, so a DNS
/// answer that changes after the check cannot reach a private address), redirects (followed
/// here, each hop checked, at most five), the status with retries and back-off on 5xx, and the
/// TIFF signature of the first bytes. GDAL's own errors are terse ("HTTP error code 404" at
/// best), so this is what lets the service answer 404 / timeout / not-a-TIFF precisely.
/// </summary>
public sealed class RemoteProbe : IDisposable
{
    /// <summary>How the service names itself to the servers it reads from (the probe and GDAL's reads alike).</summary>
    public const string UserAgent = "S2CloudMask/1.0";

    private const int MaxRedirects = 5;

    private readonly UrlPolicy _policy;
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;
    private readonly int _maxRetries;
    private readonly TimeSpan _retryDelay;

    public RemoteProbe(UrlPolicy policy, TimeSpan timeout, int maxRetries, TimeSpan retryDelay)
    {
        _policy = policy;
        _timeout = timeout;
        _maxRetries = maxRetries;
        _retryDelay = retryDelay;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = ConnectAsync,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
    }

    /// <summary>The URL GDAL should read (after redirects), once it is allowed, answers, and starts like a TIFF.</summary>
    public async Task<Uri> ProbeAsync(string url, CancellationToken cancellationToken) =>
        (await FollowAsync(url, maxBytes: 0, cancellationToken)).Uri;

    /// <summary>A small document (a STAC item) under the same policy, redirects, retries and timeout; at most <paramref name="maxBytes"/>.</summary>
    public async Task<(Uri Uri, byte[] Body)> GetAsync(string url, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        return await FollowAsync(url, maxBytes, cancellationToken);
    }

    private async Task<(Uri Uri, byte[] Body)> FollowAsync(string url, int maxBytes, CancellationToken cancellationToken)
    {
        var current = url;
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            var uri = await _policy.CheckAsync(current, cancellationToken);
            var (redirect, body) = await FetchAsync(uri, maxBytes, cancellationToken);
            if (redirect is null)
            {
                return (uri, body);
            }

            current = redirect.AbsoluteUri;
        }

        throw new RemoteSourceException(RemoteFailure.Unreachable, UrlPolicy.Redact(url), $"{UrlPolicy.Redact(url)} redirects more than {MaxRedirects} times");
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// (null, body) when the source is good; (target, empty) when it redirects. With
    /// <paramref name="maxBytes"/> 0 only the first 8 bytes are asked for and checked to be a TIFF.
    /// </summary>
    private async Task<(Uri? Redirect, byte[] Body)> FetchAsync(Uri uri, int maxBytes, CancellationToken cancellationToken)
    {
        var tiff = maxBytes == 0;
        var shown = UrlPolicy.Redact(uri);
        for (var attempt = 0; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_timeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            if (tiff)
            {
                request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 7);
            }

            HttpResponseMessage response;
            byte[] head;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                using (response)
                {
                    var status = (int)response.StatusCode;
                    if (status is >= 300 and < 400 && response.Headers.Location is { } location)
                    {
                        return (new Uri(uri, location), []);
                    }

                    if (status >= 500 && attempt < _maxRetries)
                    {
                        await Task.Delay(_retryDelay * Math.Pow(2, attempt), cancellationToken);
                        continue;
                    }

                    switch (response.StatusCode)
                    {
                        case HttpStatusCode.NotFound or HttpStatusCode.Gone:
                            throw new RemoteSourceException(RemoteFailure.NotFound, shown, $"{shown} answered {status}: not found");
                        case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                            throw new RemoteSourceException(RemoteFailure.Forbidden, shown, $"{shown} answered {status}: access denied");
                        case >= (HttpStatusCode)500:
                            throw new RemoteSourceException(
                                RemoteFailure.ServerError, shown, $"{shown} answered {status} after {_maxRetries + 1} attempts");
                    }

                    if (!response.IsSuccessStatusCode)
                    {
                        throw new RemoteSourceException(RemoteFailure.ReadFailed, shown, $"{shown} answered {status}");
                    }

                    if (!tiff && response.Content.Headers.ContentLength > maxBytes)
                    {
                        throw new RemoteSourceException(RemoteFailure.Unusable, shown, $"{shown} is larger than {maxBytes} bytes");
                    }

                    await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
                    head = new byte[tiff ? 8 : maxBytes + 1];
                    var read = await body.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, timeout.Token);
                    if (!tiff && read > maxBytes)
                    {
                        throw new RemoteSourceException(RemoteFailure.Unusable, shown, $"{shown} is larger than {maxBytes} bytes");
                    }

                    head = head[..read];
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RemoteSourceException(RemoteFailure.Timeout, shown, $"{shown} did not answer within {_timeout.TotalSeconds:0.#} s");
            }
            catch (HttpRequestException e) when (e.InnerException is RemoteSourceException denied)
            {
                throw denied;
            }
            catch (HttpRequestException e)
            {
                throw new RemoteSourceException(RemoteFailure.Unreachable, shown, $"{shown} is unreachable: {e.Message}", e);
            }

            if (tiff && !LooksLikeTiff(head))
            {
                throw new RemoteSourceException(RemoteFailure.NotATiff, shown, $"{shown} is not a TIFF (its first bytes are not II*/MM*)");
            }

            return (null, head);
        }
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        foreach (var address in addresses)
        {
            _policy.CheckAddress(address, context.InitialRequestMessage.RequestUri!);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool LooksLikeTiff(ReadOnlySpan<byte> b) =>
        b.Length >= 4 && ((b[0] == 'I' && b[1] == 'I' && b[2] is 42 or 43 && b[3] == 0)
            || (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] is 42 or 43));
}
