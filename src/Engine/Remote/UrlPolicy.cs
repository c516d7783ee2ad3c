using System.Net;
using System.Net.Sockets;

namespace S2CloudMask.Engine.Remote;

/// <summary>
/// Which URLs the service may read (server-side request forgery guard): http(s) only, so
/// nothing GDAL would take as a local path or another /vsi handler gets through; optionally
/// only under configured prefixes; and, unless private networks are allowed, only hosts whose
/// every resolved address is public (no loopback, link-local, private, CGNAT, unique-local,
/// multicast or unspecified addresses, IPv4-mapped ones included).
/// </summary>
public sealed class UrlPolicy(IReadOnlyList<string> allowedPrefixes, bool allowPrivateNetworks)
{
    public IReadOnlyList<string> AllowedPrefixes { get; } = allowedPrefixes;

    public bool AllowPrivateNetworks { get; } = allowPrivateNetworks;

    /// <summary>The parsed URL when the policy allows it; <see cref="RemoteSourceException"/> (NotAllowed) otherwise.</summary>
    public async Task<Uri> CheckAsync(string url, CancellationToken cancellationToken)
    {
        var uri = CheckSyntax(url);
        await CheckHostAsync(uri, cancellationToken);
        return uri;
    }

    /// <summary>Scheme, shape and allow-list; no DNS.</summary>
    public Uri CheckSyntax(string url)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            throw Denied(url, "is empty or holds whitespace or control characters");
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.IsFile || uri.IsUnc)
        {
            throw Denied(url, "is not an absolute http(s) URL");
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw Denied(url, $"uses the scheme '{uri.Scheme}': only http and https are read");
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            throw Denied(url, "names no host");
        }

        if (AllowedPrefixes.Count > 0 && !AllowedPrefixes.Any(p => uri.AbsoluteUri.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
        {
            throw Denied(url, "is not under any of the allowed prefixes (Remote:AllowedPrefixes)");
        }

        return uri;
    }

    /// <summary>Resolves the host and checks every address.</summary>
    public async Task CheckHostAsync(Uri uri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (AllowPrivateNetworks)
        {
            return;
        }

        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
            }
            catch (SocketException e)
            {
                throw new RemoteSourceException(RemoteFailure.Unreachable, Redact(uri), $"cannot resolve the host of {Redact(uri)}: {e.Message}", e);
            }
        }

        if (addresses.Length == 0)
        {
            throw new RemoteSourceException(RemoteFailure.Unreachable, Redact(uri), $"the host of {Redact(uri)} resolves to no address");
        }

        if (addresses.FirstOrDefault(a => !IsPublic(a)) is { } blocked)
        {
            throw Denied(uri.OriginalString, $"resolves to {blocked}, a loopback, link-local or private address (Remote:AllowPrivateNetworks is false)");
        }
    }

    /// <summary>Checks one address a connection is about to use (guards against DNS answers changing after the check).</summary>
    public void CheckAddress(IPAddress address, Uri uri)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(uri);
        if (!AllowPrivateNetworks && !IsPublic(address))
        {
            throw Denied(uri.OriginalString, $"connects to {address}, a loopback, link-local or private address");
        }
    }

    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0
                || b[0] == 10
                || b[0] == 127
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)   // CGNAT 100.64/10
                || (b[0] == 169 && b[1] == 254)                // link-local, cloud metadata
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)     // IETF protocol assignments
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19)) // benchmarking
                || b[0] >= 224);                               // multicast, reserved, broadcast
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return !(address.IsIPv6LinkLocal
                || address.IsIPv6SiteLocal
                || address.IsIPv6Multicast
                || (b[0] & 0xfe) == 0xfc                       // unique local fc00::/7
                || (b[0] == 0x20 && b[1] == 0x02)              // 6to4 can wrap private IPv4
                || (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)); // NAT64
        }

        return false;
    }

    /// <summary>scheme://host[:port]/path: no user info, query string or fragment, which may hold credentials.</summary>
    public static string Redact(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
    }

    /// <summary><see cref="Redact(Uri)"/> for text that may not even parse.</summary>
    public static string Redact(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return "";
        }

        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host))
        {
            return Redact(uri);
        }

        var cut = url.IndexOfAny(['?', '#']);
        var text = cut >= 0 ? url[..cut] : url;
        return text.Length <= 200 ? text : text[..200] + "...";
    }

    private static RemoteSourceException Denied(string url, string why) =>
        new(RemoteFailure.NotAllowed, Redact(url), $"the URL {Redact(url)} {why}");
}
