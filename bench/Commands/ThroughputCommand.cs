using System.Diagnostics;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Bench.Commands;

/// <summary>
/// Whole-model throughput on the workload of <c>reference.py bench</c>: the clear scene
/// concatenated along y to about N megapixels, the clear scene itself (tiled alike) as the
/// reference for spectral-temporal models. Times <see cref="CloudClassifier.Probability(CloudModel, BandImage, Scaling, BandImage?, Scaling, float[], ClassifyOptions?)"/>
/// alone (features, trees, opening), as the reference times <c>proba</c> alone; with
/// <c>--output mask</c>,
/// <see cref="CloudClassifier.Mask(CloudModel, BandImage, Scaling, BandImage?, Scaling, float, byte[], ClassifyOptions?)"/>:
/// the mask codes at the model's threshold, what <c>POST /mask</c> returns by default (a
/// single tree cut to the threshold, no image of probabilities). Its line then reads
/// <c>MODEL-mask Mpx/s X</c>.
/// </summary>
internal static class ThroughputCommand
{
    public static int Run(string[] args)
    {
        var cli = new Cli(args, "--ref");
        if (cli.Positional.Count != 1)
        {
            throw new BenchException("usage: throughput MODEL_JSON [--mpx N] [--ref] [--runs K] [--threads T] [--chunk PX] [--block-rows R] [--min-seconds S] [--output probability|mask]");
        }

        var mpx = cli.Double("--mpx", 4);
        var runs = cli.Int("--runs", 5);
        var threads = cli.Int("--threads", Environment.ProcessorCount);
        var wantRef = cli.Flag("--ref");
        var chunk = cli.Int("--chunk", ClassifyOptions.Default.ChunkPixels);
        var blockRows = cli.Int("--block-rows", 0);
        var minSeconds = cli.Double("--min-seconds", 0.5);
        var mask = cli.Choice("--output", "probability", "mask") == "mask";
        cli.RejectUnknown();

        var model = ModelFile.Load(SharedData.ModelFile(cli.Positional[0]));
        var useRef = wantRef || model.NeedsReference;
        var repeats = SharedData.RepeatsFor(mpx);
        var obsArray = SharedData.TiledClearScene(repeats);
        var obs = BandImage.FromArray(obsArray);

        // A separate copy, as the reference concatenates a second array: the reference
        // planes then cost their own memory traffic rather than hitting the same lines.
        var reference = useRef ? BandImage.FromArray(SharedData.TiledClearScene(repeats)) : null;
        var dest = mask ? [] : new float[obs.PixelCount];
        var codes = mask ? new byte[obs.PixelCount] : [];
        var options = new ClassifyOptions { MaxDegreeOfParallelism = threads, ChunkPixels = chunk, BlockRows = blockRows };
        void Classify()
        {
            if (mask)
            {
                CloudClassifier.Mask(model, obs, Scaling.Identity, reference, Scaling.Identity, model.Threshold, codes, options);
            }
            else
            {
                CloudClassifier.Probability(model, obs, Scaling.Identity, reference, Scaling.Identity, dest, options);
            }
        }

        var label = mask ? model.Name + "-mask" : model.Name;

        Console.WriteLine(
            $"# {model.Name}: {model.Features.FeatureCount} features, {model.Ensemble.TreeCount} tree(s) of depth <= {model.Ensemble.MaxDepth}, " +
            $"opening {model.Opening}, output {(mask ? "mask" : "probability")}, reference {(reference is null ? "no" : "yes")}; image {obs.Height} x {obs.Width} = {Stats.F(obs.PixelCount / 1e6)} Mpx ({repeats} x clear scene); {threads} thread(s)");

        // Warm up until the JIT has promoted the hot methods (see WarmUp).
        var warm = WarmUp.Run(Classify);
        Console.WriteLine(WarmUp.Describe(warm));
        var rates = new List<double>();
        for (var r = 1; r <= runs; r++)
        {
            // A run classifies the image over and over for at least --min-seconds: a single
            // pass of a fast model takes ~50 ms, short enough for one hiccup of the shared
            // machine to decide it; the reference's one call takes seconds.
            var cpu = Stats.CpuSeconds();
            var t0 = Stopwatch.GetTimestamp();
            var passes = 0;
            double seconds;
            do
            {
                Classify();
                passes++;
                seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
            while (seconds < minSeconds);

            var cores = (Stats.CpuSeconds() - cpu) / seconds;
            var rate = obs.PixelCount * (double)passes / seconds / 1e6;
            rates.Add(rate);
            Console.WriteLine($"run {r}: {obs.PixelCount} px x {passes} in {Stats.F(seconds, 4)} s = {Stats.F(rate)} Mpx/s (busy cores {Stats.F(cores, 2)})");
        }

        Console.WriteLine($"{label} Mpx/s {Stats.F(Stats.Median(rates))}");
        return 0;
    }
}
