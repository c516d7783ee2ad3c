using System.Globalization;
using S2CloudMask.Cli;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Gdal;

const string Usage = """
    s2cloudmask: Sentinel-2 cloud masks from the command line

      s2cloudmask mask INPUT.tif OUTPUT.tif [--model NAME|FILE.model.json] [--models DIR]...
                       [--probability] [--scale S] [--offset O] [--nodata N]
                       [--block-rows N] [--threads N]
          Classifies a multi-band raster (the ten bands B02 B03 B04 B05 B06 B07 B08 B8A B11 B12
          in order; integer DN are scaled by 1e-4, nodata 0) into a tiled, DEFLATE-compressed
          GeoTIFF mask (1 cloud, 0 clear, 255 nodata) or probability, with the input's
          georeferencing, a block of rows at a time. Default model: fast; block rows: 512.
      s2cloudmask models [--models DIR]...
          Lists the built-in models and those of the directories.
    """;

try
{
    if (args.Length == 0 || args[0] is "-h" or "--help")
    {
        Console.WriteLine(Usage);
        return args.Length == 0 ? 2 : 0;
    }

    var positional = new List<string>();
    var dirs = new List<string>();
    string model = "fast";
    bool probability = false;
    double? scale = null, offset = null, nodata = null;
    int blockRows = 512, threads = -1;
    for (var i = 1; i < args.Length; i++)
    {
        string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
        double Number() => double.Parse(Next(), CultureInfo.InvariantCulture);
        switch (args[i])
        {
            case "--model": model = Next(); break;
            case "--models": dirs.Add(Next()); break;
            case "--probability": probability = true; break;
            case "--scale": scale = Number(); break;
            case "--offset": offset = Number(); break;
            case "--nodata": nodata = Number(); break;
            case "--block-rows": blockRows = int.Parse(Next(), CultureInfo.InvariantCulture); break;
            case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
            default:
                if (args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"unknown option {args[i]}");
                }

                positional.Add(args[i]);
                break;
        }
    }

    switch (args[0])
    {
        case "mask" when positional.Count == 2:
            return MaskCommand.Run(new MaskOptions(positional[0], positional[1], model, dirs, probability, scale, offset, nodata, blockRows, threads), Console.Out);
        case "models":
            foreach (var m in MaskCommand.Catalog(dirs).Models.OrderBy(m => m.Name, StringComparer.Ordinal))
            {
                Console.WriteLine($"{m.Name,-14} {m.Ensemble.Kind,-22} {m.Ensemble.TreeCount,4} trees  {(m.NeedsReference ? "needs a reference" : "single image"),-17}  {m.Origin}");
            }

            return 0;
        default:
            Console.Error.WriteLine(Usage);
            return 2;
    }
}
catch (Exception e) when (e is ArgumentException or FormatException or InvalidInputException or ModelFormatException or GdalException or IOException)
{
    Console.Error.WriteLine($"s2cloudmask: {e.Message}");
    return 1;
}
