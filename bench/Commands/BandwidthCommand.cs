using System.Diagnostics;
using System.Numerics.Tensors;

namespace S2CloudMask.Bench.Commands;

/// <summary>
/// The memory-bandwidth bound of classification: the time to read 10 float32 bands of N
/// megapixels once, as a vectorised sum spread over all cores. No classifier can beat it
/// on an image that does not fit in cache, since it must read every band at least once.
/// A run reads the data over and over for at least --min-seconds, as a throughput run
/// classifies its image (0.5 s by default for both), so the bound and the classifier it is
/// compared with are averaged over the same length of time: a single pass takes about 4 ms,
/// and medians of five such snapshots ranged from 469 to 941 Mpx/s within one run.
/// </summary>
internal static class BandwidthCommand
{
    private const int Bands = 10;

    public static int Run(string[] args)
    {
        var cli = new Cli(args);
        var mpx = cli.Double("--mpx", 4);
        var runs = cli.Int("--runs", 5);
        var threads = cli.Int("--threads", Environment.ProcessorCount);
        var minSeconds = cli.Double("--min-seconds", 0.5);
        cli.RejectUnknown();

        var pixels = (long)Math.Round(mpx * 1e6);
        var data = new float[checked(pixels * Bands)];

        // Touch every page first (and not with zeros, which some kernels could map lazily).
        var parts = threads * 8;
        var part = (data.Length + parts - 1) / parts;
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads }, p =>
        {
            var start = p * part;
            data.AsSpan(start, Math.Min(part, data.Length - start)).Fill(0.25f);
        });

        Console.WriteLine($"# bandwidth: {Bands} float32 bands x {Stats.F(pixels / 1e6)} Mpx = {Stats.F(data.LongLength * sizeof(float) / 1e6, 0)} MB read once a pass; {threads} thread(s)");
        // Warm up as throughput does (see WarmUp): before, the first runs took the sum's
        // tier-0 code, and the rate rose run by run.
        var total = 0.0;
        var warm = WarmUp.Run(() => total += Sum(data, parts, part, threads));
        Console.WriteLine(WarmUp.Describe(warm));
        var rates = new List<double>();
        for (var r = 1; r <= runs; r++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var passes = 0;
            double seconds;
            do
            {
                total += Sum(data, parts, part, threads);
                passes++;
                seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
            while (seconds < minSeconds);

            var rate = pixels * (double)passes / seconds / 1e6;
            rates.Add(rate);
            Console.WriteLine($"run {r}: {pixels} px x {passes} in {Stats.F(seconds, 4)} s = {Stats.F(rate)} Mpx/s ({Stats.F(data.LongLength * sizeof(float) * (double)passes / seconds / 1e9, 2)} GB/s)");
        }

        // The sum is printed so the reads cannot be optimised away.
        Console.WriteLine($"# checksum {total}");
        Console.WriteLine($"bandwidth Mpx/s {Stats.F(Stats.Median(rates))}");
        return 0;
    }

    private static double Sum(float[] data, int parts, int part, int threads)
    {
        var sums = new double[parts];
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads }, p =>
        {
            var start = p * part;
            sums[p] = TensorPrimitives.Sum<float>(data.AsSpan(start, Math.Min(part, data.Length - start)));
        });
        return sums.Sum();
    }
}
