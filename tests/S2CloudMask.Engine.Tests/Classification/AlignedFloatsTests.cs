using System.Runtime.CompilerServices;
using S2CloudMask.Engine.Classification;

namespace S2CloudMask.Engine.Tests.Classification;

/// <summary>The per-thread pinned buffer the classifier carves its chunk planes from.</summary>
public sealed class AlignedFloatsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(20_000)]
    [InlineData(300_000)]
    public void StartsOnACacheLineWithRoomForTheFloatsAsked(int floats)
    {
        var (buffer, start) = AlignedFloats.ForThisThread(floats);
        Assert.InRange(start, 0, 15);
        Assert.True(buffer.Length - start >= floats);
        Assert.Equal(0, AddressOf(buffer, start) % 64);
    }

    [Fact]
    public void KeepsTheBufferWhileItIsLargeEnoughAndGrowsItOtherwise()
    {
        var (small, _) = AlignedFloats.ForThisThread(1000);
        var (again, _) = AlignedFloats.ForThisThread(500);
        Assert.Same(small, again);
        var (large, start) = AlignedFloats.ForThisThread(small.Length * 2);
        Assert.NotSame(small, large);
        Assert.Equal(0, AddressOf(large, start) % 64);
    }

    [Fact]
    public void EachThreadHasItsOwn()
    {
        var (mine, _) = AlignedFloats.ForThisThread(1000);
        float[]? theirs = null;
        var thread = new Thread(() => theirs = AlignedFloats.ForThisThread(1000).Buffer);
        thread.Start();
        thread.Join();
        Assert.NotNull(theirs);
        Assert.NotSame(mine, theirs);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 16)]
    [InlineData(16, 16)]
    [InlineData(17, 32)]
    [InlineData(20_480, 20_480)]
    public void RoundsUpToWholeLines(int n, int expected) => Assert.Equal(expected, AlignedFloats.Round(n));

    private static unsafe long AddressOf(float[] buffer, int index) => (long)Unsafe.AsPointer(ref buffer[index]);
}
