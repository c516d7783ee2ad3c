using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using S2CloudMask.Api.Hosting;
using S2CloudMask.Api.Tests.Support;

namespace S2CloudMask.Api.Tests.Hosting;

public sealed class LargeBlockMemoryPoolTests
{
    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(LargeBlockMemoryPool.BlockSize)]
    public void EveryBlockIsWhole(int request)
    {
        using var pool = new LargeBlockMemoryPool();
        using var block = pool.Rent(request);
        Assert.Equal(LargeBlockMemoryPool.BlockSize, block.Memory.Length);
        Assert.Equal(LargeBlockMemoryPool.BlockSize, pool.MaxBufferSize);
    }

    [Fact]
    public void MoreThanABlockIsRefused()
    {
        using var pool = new LargeBlockMemoryPool();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(LargeBlockMemoryPool.BlockSize + 1));
    }

    [Fact]
    public void AReturnedBlockIsReusedOnceEvenIfDisposedTwice()
    {
        using var pool = new LargeBlockMemoryPool();
        var first = pool.Rent();
        var array = ArrayOf(first);
        first.Dispose();
        first.Dispose();
        Assert.Equal(1, pool.FreeBlocks);
        Assert.Throws<ObjectDisposedException>(() => first.Memory);

        using var second = pool.Rent();
        using var third = pool.Rent();
        Assert.Same(array, ArrayOf(second));
        Assert.NotSame(array, ArrayOf(third));
    }

    [Fact]
    public void AtMostMaxFreeBlocksWaitForReuse()
    {
        using var pool = new LargeBlockMemoryPool();
        var blocks = Enumerable.Range(0, LargeBlockMemoryPool.MaxFreeBlocks + 20).Select(_ => pool.Rent()).ToList();
        blocks.ForEach(b => b.Dispose());
        Assert.Equal(LargeBlockMemoryPool.MaxFreeBlocks, pool.FreeBlocks);
    }

    [Fact]
    public async Task NoBlockIsHeldTwiceAtOnce()
    {
        using var pool = new LargeBlockMemoryPool();
        var held = new ConcurrentDictionary<byte[], bool>(ReferenceEqualityComparer.Instance);
        var clashes = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 2000; i++)
            {
                using var block = pool.Rent();
                var array = ArrayOf(block);
                if (!held.TryAdd(array, true))
                {
                    Interlocked.Increment(ref clashes);
                }

                held.TryRemove(array, out var _);
            }
        })));
        Assert.Equal(0, clashes);
    }

    /// <summary>The service as Program builds it: the large-block factory is the one Kestrel gets (registered after its own).</summary>
    [SharedFact]
    public void TheServiceGivesKestrelTheLargeBlockPools()
    {
        using var factory = new CloudMaskApiFactory();
        Assert.IsType<LargeBlockMemoryPoolFactory>(factory.Services.GetRequiredService<IMemoryPoolFactory<byte>>());
    }

    /// <summary>
    /// Kestrel on a loopback socket with the large-block factory (registered after Kestrel's
    /// own, as the service does): several requests at once each bring 3 MB through the large
    /// blocks, every byte intact.
    /// </summary>
    [Fact]
    public async Task KestrelReadsBodiesIntactThroughTheLargeBlocks()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        await using var app = builder.Build();
        app.MapPost("/sha256", async (HttpRequest request) =>
        {
            using var copy = new MemoryStream();
            await request.Body.CopyToAsync(copy);
            return Convert.ToHexString(SHA256.HashData(copy.ToArray()));
        });
        await app.StartAsync();
        try
        {
            Assert.IsType<LargeBlockMemoryPoolFactory>(app.Services.GetRequiredService<IMemoryPoolFactory<byte>>());
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
            var bodies = Enumerable.Range(0, 6).Select(i =>
            {
                var body = new byte[(3 << 20) + (i * 4099)];
                new Random(i).NextBytes(body);
                return body;
            }).ToArray();
            var answers = await Task.WhenAll(bodies.Select(async body =>
            {
                using var response = await client.PostAsync("/sha256", new ByteArrayContent(body));
                response.EnsureSuccessStatusCode();
                return await response.Content.ReadAsStringAsync();
            }));
            Assert.Equal(bodies.Select(b => Convert.ToHexString(SHA256.HashData(b))), answers);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static byte[] ArrayOf(IMemoryOwner<byte> block) =>
        MemoryMarshal.TryGetArray<byte>(block.Memory, out var segment) ? segment.Array! : throw new InvalidOperationException("not an array");
}
