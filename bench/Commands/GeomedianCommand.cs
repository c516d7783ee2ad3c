using System.Diagnostics;
using S2CloudMask.Engine.Geomedian;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Bench.Commands;

/// <summary>
/// Geomedian throughput on the workload of <c>reference.py geomedian-bench</c>: the
/// top-left sqrt(N) x sqrt(N) corner of the 30-date stack, DN scaled by 1e-4. Iteration
/// counts differ from pixel to pixel, so only the same corner compares with the reference.
/// </summary>
internal static class GeomedianCommand
{
    /// <summary>A run repeats the computation until it lasts this long, so small N still times well.</summary>
    private const double MinRunSeconds = 0.25;

    public static int Run(string[] args)
    {
        var cli = new Cli(args);
        var px = cli.Int("--px", 2500);
        var runs = cli.Int("--runs", 5);
        var threads = cli.Int("--threads", Environment.ProcessorCount);
        cli.RejectUnknown();

        var full = Npy.Read(SharedData.DataFile(SharedData.Stack));
        if (full.Rank != 4 || full.Type != ElementType.Float32)
        {
            throw new BenchException($"{SharedData.Stack}: expected a float32 (y, x, band, time) array, got {full.Type} {full.ShapeText}");
        }

        var side = Math.Min((int)Math.Sqrt(px), Math.Min(full.Shape[0], full.Shape[1]));
        var stack = new BandStack(Corner(full, side));
        var scaling = new Scaling(1e-4, 0, null);
        var pixels = side * side;

        // Warm up until the JIT has promoted the hot methods (see WarmUp).
        GeomedianResult? last = null;
        var warmUp = WarmUp.Run(() => last = GeometricMedian.Compute(stack, scaling, 1e-4, 2000, threads));
        Console.WriteLine(WarmUp.Describe(warmUp));
        var warm = last!;

        var repeats = Math.Max(1, (int)Math.Ceiling(MinRunSeconds / Math.Max(warm.Elapsed.TotalSeconds, 1e-6)));
        Console.WriteLine(
            $"# geomedian: {side} x {side} = {pixels} px x {stack.Dates} dates x {stack.Bands} bands; " +
            $"{warm.TotalIterations} iterations in all ({Stats.F((double)warm.TotalIterations / pixels, 1)} per px, max {warm.MaxIterations}); " +
            $"{repeats} repeat(s) per run; {threads} thread(s)");

        var rates = new List<double>();
        for (var r = 1; r <= runs; r++)
        {
            var cpu = Stats.CpuSeconds();
            var t0 = Stopwatch.GetTimestamp();
            for (var i = 0; i < repeats; i++)
            {
                GeometricMedian.Compute(stack, scaling, 1e-4, 2000, threads);
            }

            var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            var cores = (Stats.CpuSeconds() - cpu) / seconds;
            var rate = (double)pixels * repeats / seconds;
            rates.Add(rate);
            var nsPerIteration = seconds * 1e9 * cores / ((double)warm.TotalIterations * repeats);
            Console.WriteLine($"run {r}: {pixels * repeats} px in {Stats.F(seconds, 4)} s = {Stats.F(rate, 0)} px/s ({Stats.F(nsPerIteration, 1)} core-ns per pixel-iteration; busy cores {Stats.F(cores, 2)})");
        }

        Breakdown(stack, scaling);
        Console.WriteLine($"geomedian px/s {Stats.F(Stats.Median(rates), 0)}");
        return 0;
    }

    /// <summary>One thread: decoding every date to reflectance planes, then the solver alone on gathered pixels.</summary>
    private static void Breakdown(BandStack stack, Scaling scaling)
    {
        int h = stack.Height, w = stack.Width, nb = stack.Bands, nt = stack.Dates;
        var planes = new float[nt * nb * w];
        var pixels = new float[h * w][];
        var counts = new int[h * w];
        var dates = Enumerable.Range(0, nt).Select(stack.Date).ToArray();
        var decode = double.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            var t0 = Stopwatch.GetTimestamp();
            for (var y = 0; y < h; y++)
            {
                for (var t = 0; t < nt; t++)
                {
                    PixelDecoder.Decode(dates[t], scaling, (long)y * w, w, planes.AsSpan(t * nb * w, nb * w), w);
                }

                if (round > 0)
                {
                    continue;
                }

                for (var x = 0; x < w; x++)
                {
                    var px = new float[nt * nb];
                    var n = 0;
                    for (var t = 0; t < nt; t++)
                    {
                        if (float.IsNaN(planes[(t * nb * w) + x]))
                        {
                            continue;
                        }

                        for (var b = 0; b < nb; b++)
                        {
                            px[(n * nb) + b] = planes[(((t * nb) + b) * w) + x];
                        }

                        n++;
                    }

                    pixels[(y * w) + x] = px;
                    counts[(y * w) + x] = n;
                }
            }

            decode = Math.Min(decode, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }

        double[] yv = new double[nb], next = new double[nb], tv = new double[nb], d = new double[nt];
        var solve = double.MaxValue;
        long iterations = 0;
        for (var round = 0; round < 3; round++)
        {
            iterations = 0;
            var t0 = Stopwatch.GetTimestamp();
            for (var i = 0; i < pixels.Length; i++)
            {
                if (counts[i] > 0)
                {
                    iterations += GeometricMedian.Solve(pixels[i].AsSpan(0, counts[i] * nb), counts[i], nb, 1e-4, 2000, yv, next, tv, d);
                }
            }

            solve = Math.Min(solve, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }

        var n2 = (double)h * w;
        Console.WriteLine(
            $"# one thread: decode {Stats.F(decode * 1e9 / n2, 0)} ns/px, Solve {Stats.F(solve * 1e9 / n2, 0)} ns/px " +
            $"({Stats.F(solve * 1e9 / iterations, 0)} ns per pixel-iteration, {Stats.F(n2 / (decode + solve), 0)} px/s on one core)");
    }

    private static NdArray Corner(NdArray full, int side)
    {
        int w = full.Shape[1], nb = full.Shape[2], nt = full.Shape[3];
        var src = full.AsSpan<float>();
        var values = new float[side * side * nb * nt];
        var pixel = nb * nt;
        for (var y = 0; y < side; y++)
        {
            src.Slice(y * w * pixel, side * pixel).CopyTo(values.AsSpan(y * side * pixel));
        }

        return NdArray.Create(values, side, side, nb, nt);
    }
}
