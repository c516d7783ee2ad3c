using System.Diagnostics;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Features;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Morphology;
using S2CloudMask.Engine.Raster;
using S2CloudMask.Engine.Trees;

namespace S2CloudMask.Bench.Commands;

/// <summary>
/// Where classification time goes: the classifier itself on one thread with its stage clock
/// on (decode, features, the scan for undefined features, trees, opening), best of a few
/// runs, beside the classifier without the clock on one thread and on all cores; then each
/// feature expression compiled and timed alone.
/// </summary>
internal static class StagesCommand
{
    private const int Chunk = 2048;

    public static int Run(string[] args)
    {
        var cli = new Cli(args);
        var mpx = cli.Double("--mpx", 1);
        var runs = cli.Int("--runs", 3);
        _chunk = cli.Int("--chunk", ClassifyOptions.Default.ChunkPixels);
        var image = cli.Choice("--image", "clear", "dates");
        var express = cli.Choice("--express", "on", "off");
        _mask = cli.Choice("--output", "probability", "mask") == "mask";
        cli.RejectUnknown();
        var names = cli.Positional.Count > 0 ? cli.Positional : ["fast", "spectral", "fast-shadow"];

        var pixels = image == "clear" ? SharedData.TiledClearScene(SharedData.RepeatsFor(mpx)) : SharedData.DatesOneBelowAnother(mpx);
        var obs = BandImage.FromArray(pixels);
        var reference = BandImage.FromArray(pixels);
        LevelForest.Express = express == "on";
        Console.WriteLine($"# stages: {image} image, {obs.Height} x {obs.Width} = {Stats.F(obs.PixelCount / 1e6)} Mpx, chunks of {_chunk} px, one thread, express lane {express}, output {(_mask ? "mask" : "probability")}; best of {runs}");
        foreach (var name in names)
        {
            var model = ModelFile.Load(SharedData.ModelFile(name));
            Report(name, model, obs, model.NeedsReference ? reference : null, runs);
        }

        return 0;
    }

    private static void Report(string label, CloudModel model, BandImage obs, BandImage? reference, int runs)
    {
        var px = obs.PixelCount;
        var stages = (int)ClassifyStage.Count;
        var best = Enumerable.Repeat(double.MaxValue, stages).ToArray();
        var bestTotal = double.MaxValue;

        // Warm up until the JIT has promoted the kernels (see WarmUp; a single short pass
        // leaves TensorPrimitives.Log at tier 0, several times slower).
        WarmUp.Run(() => Classify(model, obs, reference, 1));

        for (var r = 0; r < runs; r++)
        {
            var clock = new StageClock();
            CloudClassifier.Clock = clock;
            try
            {
                var t0 = Stopwatch.GetTimestamp();
                Classify(model, obs, reference, 1);
                bestTotal = Math.Min(bestTotal, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
            finally
            {
                CloudClassifier.Clock = null;
            }

            for (var s = 0; s < stages; s++)
            {
                best[s] = Math.Min(best[s], clock.Seconds((ClassifyStage)s));
            }
        }

        var single = BestOf(runs, () => Classify(model, obs, reference, 1));
        var all = BestOf(runs, () => Classify(model, obs, reference, Environment.ProcessorCount));
        var sum = best.Sum();

        Console.WriteLine();
        Console.WriteLine($"## {label}: {model.Features.FeatureCount} features, {model.Ensemble.TreeCount} tree(s), max depth {model.Ensemble.MaxDepth}, opening {model.Opening}");
        Console.WriteLine($"{"stage",-28} {"ns/px",8} {"share",7} {"Mpx/s (1 thread)",17}");
        for (var s = 0; s < stages; s++)
        {
            if (((ClassifyStage)s == ClassifyStage.DecodeReference && reference is null) || ((ClassifyStage)s == ClassifyStage.Opening && model.Opening == 0) || ((ClassifyStage)s == ClassifyStage.Codes && !_mask))
            {
                continue;
            }

            Line(((ClassifyStage)s).ToString(), best[s], sum, px);
        }

        Line("sum of stages", sum, sum, px);
        Line("rest (blocks, buffers, clock)", Math.Max(0, bestTotal - sum), sum, px);
        Line("classifier, 1 thread", single, sum, px);
        Line($"classifier, {Environment.ProcessorCount} threads", all, sum, px);

        // Each expression compiled alone shows what the shared subexpressions cost; planes
        // as far apart as the classifier's.
        Console.WriteLine($"{"  feature (alone)",-28} {"ns/px",8}");
        var stride = AlignedFloats.PlaneStride(Chunk);
        var planes = new float[model.Bands.Count * stride];
        var refPlanes = new float[model.Bands.Count * stride];
        PixelDecoder.Decode(obs, Scaling.Identity, 0, Chunk, planes, stride);
        PixelDecoder.Decode(obs, Scaling.Identity, 0, Chunk, refPlanes, stride);
        foreach (var expression in model.Features.Expressions)
        {
            var program = FeatureProgram.Compile([expression], model.Bands);
            var output = new float[Chunk];
            var scratch = new float[Math.Max(1, program.ScratchLength(stride))];
            const int loops = 200;
            var seconds = BestOf(runs, () =>
            {
                for (var i = 0; i < loops; i++)
                {
                    program.Evaluate(planes, refPlanes, stride, Chunk, output, scratch);
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

    /// <summary>One classification into a buffer kept across runs (as `throughput` does: a fresh one would time its page faults).</summary>
    private static int _chunk = ClassifyOptions.Default.ChunkPixels;

    private static void Classify(CloudModel model, BandImage obs, BandImage? reference, int threads)
    {
        var options = new ClassifyOptions { MaxDegreeOfParallelism = threads, ChunkPixels = _chunk };
        if (_mask)
        {
            if (_codes.Length != obs.PixelCount)
            {
                _codes = new byte[obs.PixelCount];
            }

            CloudClassifier.Mask(model, obs, Scaling.Identity, reference, Scaling.Identity, model.Threshold, _codes, options);
            return;
        }

        if (_dest.Length != obs.PixelCount)
        {
            _dest = new float[obs.PixelCount];
        }

        CloudClassifier.Probability(model, obs, Scaling.Identity, reference, Scaling.Identity, _dest, options);
    }

    private static float[] _dest = [];

    private static byte[] _codes = [];

    /// <summary>Mask codes (<c>--output mask</c>: the tree cut to the threshold, no image of probabilities) rather than probabilities.</summary>
    private static bool _mask;
}
