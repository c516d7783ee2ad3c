using System.Runtime.ExceptionServices;

namespace S2CloudMask.Engine;

/// <summary>Blocking work items run side by side, each on a thread of its own.</summary>
internal static class SideBySide
{
    /// <summary>
    /// <paramref name="work"/>(i) for every i below <paramref name="n"/>, the first on the
    /// calling thread and every other on a new thread of its own: for work that blocks (reads
    /// waiting on the network, or on one core's decompression), which on pool threads would
    /// hold back the pool's other work. Returns once all have ended, rethrowing the error of
    /// the lowest i, if any.
    /// </summary>
    public static void Run(int n, Action<int> work, string name)
    {
        ArgumentNullException.ThrowIfNull(work);
        var errors = new ExceptionDispatchInfo?[Math.Max(0, n)];
        void One(int i)
        {
            try
            {
                work(i);
            }
            catch (Exception e)
            {
                errors[i] = ExceptionDispatchInfo.Capture(e);
            }
        }

        var threads = new Thread[Math.Max(0, n - 1)];
        for (var i = 1; i < n; i++)
        {
            var index = i;
            threads[i - 1] = new Thread(() => One(index)) { IsBackground = true, Name = $"{name} {index}" };
            threads[i - 1].Start();
        }

        if (n > 0)
        {
            One(0);
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        errors.FirstOrDefault(e => e is not null)?.Throw();
    }
}
