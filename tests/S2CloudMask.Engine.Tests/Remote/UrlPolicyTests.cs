using System.Net;
using S2CloudMask.Engine.Remote;

namespace S2CloudMask.Engine.Tests.Remote;

public sealed class UrlPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("172.16.5.4", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("8.8.8.8", true)]
    [InlineData("52.92.1.1", true)]
    [InlineData("2606:4700::1111", true)]
    public void OnlyPublicAddressesArePublic(string address, bool expected) =>
        Assert.Equal(expected, UrlPolicy.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("/vsimem/x.tif")]
    [InlineData("/etc/passwd")]
    [InlineData("ftp://example.com/a.tif")]
    [InlineData("http:///a.tif")]
    [InlineData("https://example.com/a b.tif")]
    [InlineData("")]
    public void NonHttpUrlsAreDenied(string url)
    {
        var e = Assert.Throws<RemoteSourceException>(() => new UrlPolicy([], false).CheckSyntax(url));
        Assert.Equal(RemoteFailure.NotAllowed, e.Failure);
    }

    [Fact]
    public void AllowListComparesTheNormalisedUrl()
    {
        var policy = new UrlPolicy(["https://data.example.com/s2/"], false);
        Assert.NotNull(policy.CheckSyntax("https://DATA.example.com/s2/a.tif"));
        Assert.Throws<RemoteSourceException>(() => policy.CheckSyntax("https://data.example.com/s2/../private/a.tif"));
        Assert.Throws<RemoteSourceException>(() => policy.CheckSyntax("https://data.example.com.evil.net/s2/a.tif"));
    }

    [Fact]
    public async Task LoopbackHostIsDeniedUnlessPrivateNetworksAreAllowed()
    {
        var uri = new Uri("http://localhost:8080/a.tif");
        var e = await Assert.ThrowsAsync<RemoteSourceException>(() => new UrlPolicy([], false).CheckHostAsync(uri, CancellationToken.None));
        Assert.Equal(RemoteFailure.NotAllowed, e.Failure);
        await new UrlPolicy([], true).CheckHostAsync(uri, CancellationToken.None);
    }

    [Fact]
    public void RedactDropsQueryFragmentAndUserInfo() =>
        Assert.Equal(
            "https://host.example:8443/bucket/B02.tif",
            UrlPolicy.Redact(new Uri("https://user:pw@host.example:8443/bucket/B02.tif?X-Amz-Signature=abc#frag")));
}
