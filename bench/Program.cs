using S2CloudMask.Bench;
using S2CloudMask.Bench.Commands;
using S2CloudMask.Bench.Kernels;

const string Usage = """
    S2CloudMask benchmarks (run with -c Release)

      throughput MODEL [--mpx N] [--ref] [--runs K] [--threads T] [--output probability|mask]
          whole-model probability (features, trees, opening) on the clear scene tiled
          along y to N megapixels (default 4), as reference.py bench builds it; MODEL is a
          name in ../shared/models (fast, spectral, fast-shadow), ours/NAME for our built-in
          model NAME (src/Api/Models/BuiltIn: fast, spectral, temporal), or a *.model.json path.
          --ref supplies the tiled clear scene as reference (on by default when needed).
          --output mask times the mask codes at the model's threshold instead (what
          POST /mask returns by default: a single tree cut to the threshold, the opening
          on codes); its last line reads MODEL-mask Mpx/s X.
          Last line: MODEL Mpx/s X (median of K runs, default 5).
      bandwidth [--mpx N] [--runs K] [--threads T] [--min-seconds S]
          memory-bandwidth bound: vectorised passes reading 10 float32 bands of N Mpx,
          repeated for at least S seconds a run (default 0.5, as throughput's runs).
          Last line: bandwidth Mpx/s X
      geomedian [--px N] [--runs K] [--threads T]
          geomedian of an sqrt(N) x sqrt(N) corner of the 30-date stack (default 2500 px,
          as reference.py geomedian-bench). Last line: geomedian px/s X
      stages [MODEL...] [--mpx N] [--runs K] [--chunk PX] [--image clear|dates] [--express on|off] [--output probability|mask]
          single-threaded time per pipeline stage (decode, features, transpose, trees,
          opening) against the whole classifier, to show where the time goes; --chunk
          sets the pixels decoded and evaluated together (default 4096); --image dates
          classifies the 30-date stack laid one date below another (clear and cloudy
          dates mixed) instead of the tiled clear scene; --express off turns a single
          tree's express lane off; --output mask times the mask path (stage Codes added).
      kernels [BenchmarkDotNet args]
          BenchmarkDotNet: SIMD kernels against their scalar baselines, e.g.
          kernels --filter '*BrayCurtis*'   (no filter: all, a few minutes)
    """;

try
{
    if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
    {
        Console.WriteLine(Usage);
        return args.Length == 0 ? 2 : 0;
    }

    var rest = args[1..];
    return args[0] switch
    {
        "throughput" or "--throughput" => ThroughputCommand.Run(rest),
        "bandwidth" => BandwidthCommand.Run(rest),
        "geomedian" => GeomedianCommand.Run(rest),
        "stages" => StagesCommand.Run(rest),
        "kernels" => KernelRunner.Run(rest),
        _ => throw new BenchException($"unknown command '{args[0]}'\n\n{Usage}"),
    };
}
catch (BenchException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
