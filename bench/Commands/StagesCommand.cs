using System.Diagnostics;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Features;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Morphology;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Bench.Commands;

/// <summary>
/// Where classification time goes: the classifier's pipeline re-run here stage by stage on
/// one thread, in the classifier's chunk size, each stage timed on its own (decode, features,
/// trees on the feature planes, opening), then each feature expression alone. The sum is
/// set beside the classifier itself on one thread and on all cores.
/// </summary>
internal static class StagesCommand
{
    private const int Chunk = 2048;

    public static int Run(string[] args)
    {
        var cli = new Cli(args);
        var mpx = cli.Double("--mpx", 1);
        var runs = cli.Int("--runs", 3);
        cli.RejectUnknown();
        var names = cli.Positional.Count > 0 ? cli.Positional : ["fast", "spectral", "fast-shadow"];

        var repeats = SharedData.RepeatsFor(mpx);
        var obs = BandImage.FromArray(SharedData.TiledClearScene(repeats));
        var reference = BandImage.FromArray(SharedData.TiledClearScene(repeats));
        Console.WriteLine($"# stages: {obs.Height} x {obs.Width} = {Stats.F(obs.PixelCount / 1e6)} Mpx, chunks of {Chunk} px, one thread; best of {runs}");
        foreach (var name in names)
        {
            var model = ModelFile.Load(SharedData.ModelFile(name));
            Report(model, obs, model.NeedsReference ? reference : null, runs);
        }

        return 0;
    }

    private static void Report(CloudModel model, BandImage obs, BandImage? reference, int runs)
    {
        var px = obs.PixelCount;
        var best = Enumerable.Repeat(double.MaxValue, (int)Stage.Count).ToArray();
        // Warm-up of at least a second, so tiered JIT has promoted the kernels (a single
        // short pass leaves TensorPrimitives.Log at tier 0, several times slower).
        var warm = Stopwatch.GetTimestamp();
        do
        {
            Pipeline(model, obs, reference);
        }
        while (Stopwatch.GetElapsedTime(warm).TotalSeconds < 1);

        for (var r = 0; r < runs; r++)
        {
            var t = Pipeline(model, obs, reference);

            for (var s = 0; s < t.Length; s++)
            {
                best[s] = Math.Min(best[s], t[s]);
            }
        }

        var single = BestOf(runs, () => Classify(model, obs, reference, 1));
        var all = BestOf(runs, () => Classify(model, obs, reference, Environment.ProcessorCount));
        var sum = best.Sum();

        Console.WriteLine();
        Console.WriteLine($"## {model.Name}: {model.Features.FeatureCount} features, {model.Ensemble.TreeCount} tree(s), max depth {model.Ensemble.MaxDepth}, opening {model.Opening}");
        Console.WriteLine($"{"stage",-28} {"ns/px",8} {"share",7} {"Mpx/s (1 thread)",17}");
        for (var s = 0; s < best.Length; s++)
        {
            if (((Stage)s == Stage.DecodeReference && reference is null) || ((Stage)s == Stage.Opening && model.Opening == 0))
            {
                continue;
            }

            Line(((Stage)s).ToString(), best[s], sum, px);
        }

        Line("sum of stages", sum, sum, px);
        Line("classifier, 1 thread", single, sum, px);
        Line($"classifier, {Environment.ProcessorCount} threads", all, sum, px);

        // Each expression compiled alone shows what the shared subexpressions cost.
        Console.WriteLine($"{"  feature (alone)",-28} {"ns/px",8}");
        var planes = new float[model.Bands.Count * Chunk];
        var refPlanes = new float[model.Bands.Count * Chunk];
        PixelDecoder.Decode(obs, Scaling.Identity, 0, Chunk, planes, Chunk);
        PixelDecoder.Decode(obs, Scaling.Identity, 0, Chunk, refPlanes, Chunk);
        foreach (var expression in model.Features.Expressions)
        {
            var program = FeatureProgram.Compile([expression], model.Bands);
            var output = new float[Chunk];
            var scratch = new float[Math.Max(1, program.ScratchLength(Chunk))];
            const int loops = 200;
            var seconds = BestOf(runs, () =>
            {
                for (var i = 0; i < loops; i++)
                {
                    program.Evaluate(planes, refPlanes, Chunk, Chunk, output, scratch);
                }
            });
            Console.WriteLine($"  {expression,-26} {Stats.F(seconds * 1e9 / (loops * (double)Chunk), 2),8}");
        }
    }

    private static void Line(string what, double seconds, double sum, long px) =>
        Console.WriteLine($"{what,-28} {Stats.F(seconds * 1e9 / px, 2),8} {Stats.F(100 * seconds / sum, 1),6}% {Stats.F(px / seconds / 1e6, 1),17}");

    private static double BestOf(int runs, Action action)
    {
        action();
        var best = double.MaxValue;
        for (var r = 0; r < runs; r++)
        {
            var t0 = Stopwatch.GetTimestamp();
            action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }

        return best;
    }

    private static void Classify(CloudModel model, BandImage obs, BandImage? reference, int threads)
    {
        var dest = new float[obs.PixelCount];
        CloudClassifier.Probability(model, obs, Scaling.Identity, reference, Scaling.Identity, dest, new ClassifyOptions { MaxDegreeOfParallelism = threads });
    }

    private enum Stage
    {
        Decode,
        DecodeReference,
        Features,
        Trees,
        NaNFixups,
        Opening,
        Count,
    }

    /// <summary>The classifier's per-chunk pipeline (CloudClassifier.Job), with a clock between stages.</summary>
    private static double[] Pipeline(CloudModel model, BandImage obs, BandImage? reference)
    {
        var ticks = new long[(int)Stage.Count];
        var px = (int)obs.PixelCount;
        var bands = model.Bands.Count;
        var nf = model.Features.FeatureCount;
        var obsPlanes = new float[bands * Chunk];
        var refPlanes = reference is null ? [] : new float[bands * Chunk];
        var featurePlanes = new float[nf * Chunk];
        var scratch = new float[Math.Max(1, model.Features.ScratchLength(Chunk))];
        var probability = new float[px];
        var nodata = new byte[px];
        var opened = new float[model.Opening > 0 ? px : 0];
        var openScratch = new float[model.Opening > 0 ? GreyOpening.ScratchLength(obs.Width) : 0];
        opened.AsSpan().Fill(1);
        openScratch.AsSpan().Fill(1); // touch the pages outside the clock

        for (var done = 0; done < px; done += Chunk)
        {
            var count = Math.Min(Chunk, px - done);
            var t0 = Stopwatch.GetTimestamp();
            PixelDecoder.Decode(obs, Scaling.Identity, done, count, obsPlanes, Chunk, propagateNoData: true, model.Features.ObsBandMask | 1);
            var t1 = Stopwatch.GetTimestamp();
            if (reference is not null)
            {
                PixelDecoder.Decode(reference, Scaling.Identity, done, count, refPlanes, Chunk, propagateNoData: true, model.Features.RefBandMask | 1);
            }

            var t2 = Stopwatch.GetTimestamp();
            model.Features.Evaluate(obsPlanes, refPlanes, Chunk, count, featurePlanes, scratch);
            var t3 = Stopwatch.GetTimestamp();
            var p = probability.AsSpan(done, count);
            model.Ensemble.PredictPlanes(featurePlanes, Chunk, count, p);
            var t5 = Stopwatch.GetTimestamp();
            FloatSpans.MarkNaN(obsPlanes.AsSpan(0, count), nodata.AsSpan(done, count));

            for (var f = 0; f < nf; f++)
            {
                var plane = featurePlanes.AsSpan(f * Chunk, count);
                if (!FloatSpans.ContainsNaN(plane))
                {
                    continue;
                }

                for (var i = 0; i < count; i++)
                {
                    if (float.IsNaN(plane[i]))
                    {
                        p[i] = float.NaN;
                    }
                }
            }

            var t6 = Stopwatch.GetTimestamp();
            ticks[(int)Stage.Decode] += t1 - t0;
            ticks[(int)Stage.DecodeReference] += t2 - t1;
            ticks[(int)Stage.Features] += t3 - t2;
            ticks[(int)Stage.Trees] += t5 - t3;
            ticks[(int)Stage.NaNFixups] += t6 - t5;
        }

        if (model.Opening > 0)
        {
            var t0 = Stopwatch.GetTimestamp();
            GreyOpening.Open3x3(probability, obs.Width, obs.Height, 0, 0, obs.Height, opened, openScratch);
            FloatSpans.SetNaNWhere(opened, nodata);

            ticks[(int)Stage.Opening] += Stopwatch.GetTimestamp() - t0;
        }

        return [.. ticks.Select(t => t / (double)Stopwatch.Frequency)];
    }

}
