using System.Diagnostics;
using System.Runtime;

namespace S2CloudMask.Bench;

/// <summary>
/// Warm-up before a timed run: until the JIT has stopped compiling, not for a fixed time.
/// Tiered compilation promotes hot methods in the background (with dynamic PGO through an
/// instrumented tier first), and a fixed second was not always enough: in 8 alternating
/// single-run processes of <c>throughput fast --mpx 4 --runs 1</c>, 70-162 Mpx/s (median 136),
/// and with <c>DOTNET_TieredPGO=0</c> 131-185 (median 175); with <c>--runs 5</c> the slow
/// processes' first runs took 70-82 Mpx/s and their later ones 157-167.
/// </summary>
internal static class WarmUp
{
    /// <summary>Passes in a row without a new compilation that end the warm-up, once at least <see cref="MinSeconds"/> have passed.</summary>
    private const int QuietPasses = 3;

    private const double MinSeconds = 1;

    /// <summary>Stops anyway after this long (a machine that keeps compiling something else).</summary>
    private const double MaxSeconds = 20;

    /// <summary>
    /// Runs <paramref name="pass"/> until at least a second has passed and the JIT's count of
    /// compiled methods stayed the same over the last <see cref="QuietPasses"/> passes, or
    /// 20 seconds passed. Returns the passes run, the seconds taken and whether it settled.
    /// </summary>
    public static (int Passes, double Seconds, bool Settled) Run(Action pass)
    {
        var start = Stopwatch.GetTimestamp();
        var passes = 0;
        var quiet = 0;
        var compiled = JitInfo.GetCompiledMethodCount();
        while (true)
        {
            pass();
            passes++;
            var now = JitInfo.GetCompiledMethodCount();
            quiet = now == compiled ? quiet + 1 : 0;
            compiled = now;
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (seconds >= MinSeconds && quiet >= QuietPasses)
            {
                return (passes, seconds, true);
            }

            if (seconds >= MaxSeconds)
            {
                return (passes, seconds, false);
            }
        }
    }

    /// <summary>The line the commands print about it.</summary>
    public static string Describe((int Passes, double Seconds, bool Settled) warm) =>
        $"# warm-up: {warm.Passes} run(s) in {Stats.F(warm.Seconds, 2)} s, " +
        (warm.Settled ? $"until no method had been compiled for {QuietPasses} runs" : "stopped with the JIT still compiling");
}
