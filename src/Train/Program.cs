using S2CloudMask.Train;

// Regenerates the shipped models and REPORT.md:
//   dotnet run -c Release --project src/Train -- --shared ../shared --out src/Api/Models/BuiltIn
string? shared = null, outDir = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--shared" when i + 1 < args.Length: shared = args[++i]; break;
        case "--out" when i + 1 < args.Length: outDir = args[++i]; break;
        case "-h" or "--help":
            Console.WriteLine("usage: S2CloudMask.Train --shared DIR --out DIR");
            Console.WriteLine("  trains spectral, fast and temporal from DIR (../shared: data/, labels/, models/),");
            Console.WriteLine("  validates them on held-out dates and writes *.model.json and REPORT.md to --out.");
            return 0;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}' (try --help)");
            return 2;
    }
}

if (shared is null || outDir is null)
{
    Console.Error.WriteLine("both --shared DIR and --out DIR are needed (try --help)");
    return 2;
}

if (!Directory.Exists(Path.Combine(shared, "labels")))
{
    Console.Error.WriteLine($"no labels/ under {Path.GetFullPath(shared)}");
    return 1;
}

var watch = System.Diagnostics.Stopwatch.StartNew();
var result = Trainer.Regenerate(shared, outDir, Console.Out);
Console.WriteLine($"wrote {result.Models.Count} models and {Trainer.ReportFile} to {Path.GetFullPath(outDir)} in {watch.Elapsed.TotalSeconds:F1} s");
return 0;
