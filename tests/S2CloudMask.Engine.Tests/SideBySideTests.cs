namespace S2CloudMask.Engine.Tests;

public sealed class SideBySideTests
{
    /// <summary>Every item runs once, the first on the calling thread and each other on a thread of its own, all at once.</summary>
    [Fact]
    public void RunsEveryItemOnAThreadOfItsOwnAtOnce()
    {
        var threads = new int[5];
        using var all = new Barrier(5);
        SideBySide.Run(5, i =>
        {
            threads[i] = Environment.CurrentManagedThreadId;
            Assert.True(all.SignalAndWait(TimeSpan.FromSeconds(10)), "the items did not run at once");
        }, "test");

        Assert.Equal(Environment.CurrentManagedThreadId, threads[0]);
        Assert.Equal(5, threads.Distinct().Count());
    }

    /// <summary>The lowest item's error is rethrown, once every item has ended.</summary>
    [Fact]
    public void RethrowsTheLowestItemsErrorOnceAllHaveEnded()
    {
        var ended = 0;
        var e = Assert.Throws<InvalidOperationException>(() => SideBySide.Run(4, i =>
        {
            try
            {
                Thread.Sleep(i == 3 ? 200 : 0);
                if (i is 1 or 2)
                {
                    throw new InvalidOperationException($"item {i}");
                }
            }
            finally
            {
                Interlocked.Increment(ref ended);
            }
        }, "test"));

        Assert.Equal("item 1", e.Message);
        Assert.Equal(4, Volatile.Read(ref ended));
    }

    [Fact]
    public void NoItemsIsNothingToDo()
    {
        var ran = false;
        SideBySide.Run(0, _ => ran = true, "test");
        Assert.False(ran);
    }
}
