using System.Net;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace S2CloudMask.Api.Geomedians;

/// <summary>
/// The process's one connection to the Redis of <c>Cache:Redis</c>, opened on first use (and
/// begun at start-up by <see cref="GeomedianStoreStartup"/>). Never waits long on a Redis that
/// is down: <c>abortConnect=false</c> (the multiplexer keeps reconnecting in the background),
/// fail-fast while disconnected (a command fails at once instead of queueing), and connect /
/// command timeouts (3 s / 10 s unless the connection string sets them).
/// </summary>
public sealed partial class RedisConnection : IAsyncDisposable, IDisposable
{
    public const int DefaultConnectTimeoutMs = 3000;

    public const int DefaultCommandTimeoutMs = 10_000;

    private readonly ConfigurationOptions _configuration;
    private readonly ILogger<RedisConnection> _logger;
    private readonly Lock _gate = new();
    private Task<ConnectionMultiplexer>? _connecting;
    private bool _disposed;

    public RedisConnection(IOptions<CacheOptions> options, ILogger<RedisConnection> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _configuration = Configure(options.Value.Redis);
        _logger = logger;
        Endpoint = Describe(_configuration);
    }

    /// <summary>"host:port" of every endpoint (never the password), for messages.</summary>
    public string Endpoint { get; }

    /// <summary>The connection string's options with the service's defaults and fail-fast settings.</summary>
    public static ConfigurationOptions Configure(string connectionString)
    {
        var configuration = ConfigurationOptions.Parse(connectionString);
        if (!Mentions(connectionString, "connectTimeout"))
        {
            configuration.ConnectTimeout = DefaultConnectTimeoutMs;
        }

        if (!Mentions(connectionString, "syncTimeout"))
        {
            configuration.SyncTimeout = DefaultCommandTimeoutMs;
        }

        if (!Mentions(connectionString, "asyncTimeout"))
        {
            configuration.AsyncTimeout = DefaultCommandTimeoutMs;
        }

        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ClientName ??= "s2cloudmask";
        return configuration;
    }

    /// <summary>Whether <paramref name="connectionString"/> is usable (empty counts: Redis off).</summary>
    public static bool IsValid(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return true;
        }

        try
        {
            return Configure(connectionString).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public async Task<IDatabase> DatabaseAsync() => (await MultiplexerAsync().ConfigureAwait(false)).GetDatabase();

    /// <summary>The multiplexer; the first call waits for one connection attempt (at most the connect timeout).</summary>
    public Task<ConnectionMultiplexer> MultiplexerAsync()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = ConnectAsync();
            }

            return _connecting;
        }
    }

    public void Dispose()
    {
        if (Detach() is { IsCompletedSuccessfully: true } connecting)
        {
            connecting.Result.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Detach() is not { } connecting)
        {
            return;
        }

        try
        {
            await (await connecting.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // Failed to connect: nothing to close.
        }
    }

    private Task<ConnectionMultiplexer>? Detach()
    {
        lock (_gate)
        {
            _disposed = true;
            var connecting = _connecting;
            _connecting = null;
            return connecting;
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(_configuration.Clone()).ConfigureAwait(false);
        multiplexer.ConnectionFailed += (_, e) => LogConnectionFailed(_logger, Endpoint, e.FailureType.ToString(), e.Exception?.Message ?? "");
        multiplexer.ConnectionRestored += (_, _) => LogConnectionRestored(_logger, Endpoint);
        if (multiplexer.IsConnected)
        {
            LogConnected(_logger, Endpoint);
        }
        else
        {
            LogNotConnected(_logger, Endpoint);
        }

        return multiplexer;
    }

    private static bool Mentions(string connectionString, string key) =>
        connectionString.Split(',').Any(part => part.TrimStart().StartsWith(key + "=", StringComparison.OrdinalIgnoreCase));

    private static string Describe(ConfigurationOptions configuration) =>
        configuration.EndPoints.Count == 0
            ? "(no endpoint)"
            : string.Join(",", configuration.EndPoints.Select(e => e switch
            {
                DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
                IPEndPoint ip => ip.ToString(),
                _ => e.ToString() ?? "?",
            }));

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to Redis at {Endpoint} (shared geomedian cache)")]
    private static partial void LogConnected(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis at {Endpoint} is not reachable yet; retrying in the background, geomedian requests answer 503 meanwhile")]
    private static partial void LogNotConnected(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the connection to Redis at {Endpoint} ({FailureType}): {Reason}")]
    private static partial void LogConnectionFailed(ILogger logger, string endpoint, string failureType, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection to Redis at {Endpoint} restored")]
    private static partial void LogConnectionRestored(ILogger logger, string endpoint);
}
