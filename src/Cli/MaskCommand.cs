using System.Diagnostics;
using System.Globalization;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Morphology;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Cli;

/// <summary>What <c>s2cloudmask mask</c> was asked to do.</summary>
internal sealed record MaskOptions(
    string Input,
    string Output,
    string Model,
    IReadOnlyList<string> ModelDirectories,
    bool Probability,
    double? Scale,
    double? Offset,
    double? NoData,
    int BlockRows,
    int Threads);

/// <summary>
/// Classifies a raster file of any size into a GeoTIFF, a block of rows at a time, so memory
/// stays bounded by the block and not the image: the way to mask a whole Sentinel-2 tile.
/// </summary>
internal static class MaskCommand
{
    public const string ResourcePrefix = "S2CloudMask.Cli.BuiltIn.";

    public static ModelCatalog Catalog(IEnumerable<string> directories) =>
        ModelCatalog.Load(ModelFile.LoadEmbedded(typeof(MaskCommand).Assembly, ResourcePrefix), directories);

    public static CloudModel ResolveModel(string nameOrPath, IEnumerable<string> directories) =>
        nameOrPath.EndsWith(ModelFile.Extension, StringComparison.OrdinalIgnoreCase) && File.Exists(nameOrPath)
            ? ModelFile.Load(nameOrPath)
            : Catalog(directories).Get(nameOrPath);

    /// <summary>The least and the most block cache a run sets (<see cref="GdalRowSource.CacheBytesFor"/>).</summary>
    private const long MinCacheBytes = 64L << 20, MaxCacheBytes = 1L << 30;

    public static int Run(MaskOptions o, TextWriter log)
    {
        var watch = Stopwatch.StartNew();
        var model = ResolveModel(o.Model, o.ModelDirectories);
        if (model.NeedsReference)
        {
            log.WriteLine($"model '{model.Name}' is spectral-temporal and needs a reference image; use the service's tileId instead");
            return 2;
        }

        // A strip of tile columns per core (GdalRowSource), and a block cache that holds the
        // tiles the reads share and no more: GDAL's default is 5 % of RAM, and at 256 MB
        // (less than the three rows of tiles a read of 512 rows and its halo touches) the
        // full tile's tiles were decompressed again and again: 8.4-8.7 s on one strip, 10.9-11.0
        // on two, against 5.9-6.4 s on two with 384 MB (the Zen 3 EPYC, two cores).
        var threads = o.Threads > 0 ? o.Threads : Environment.ProcessorCount;
        using var source = new GdalRowSource(o.Input, model.Bands.Count, threads);
        Gdal.CacheMaxBytes = Math.Clamp(source.CacheBytesFor(o.BlockRows + (2 * GreyOpening.Halo)), MinCacheBytes, MaxCacheBytes);
        var scaling = Scaling.Resolve(source.Type, o.Scale, o.Offset, o.NoData);
        var (w, h) = (source.Width, source.Height);
        using var output = GdalDataset.Create(
            o.Output,
            "GTiff",
            w,
            h,
            1,
            o.Probability ? GdalDataType.Float32 : GdalDataType.Byte,
            "TILED=YES",
            "BLOCKXSIZE=512",
            "BLOCKYSIZE=512",
            "COMPRESS=DEFLATE",
            "BIGTIFF=IF_SAFER",
            "NUM_THREADS=ALL_CPUS");
        if (source.Dataset.GetGeoTransform() is { } gt)
        {
            output.SetGeoTransform(gt);
        }

        output.ProjectionWkt = source.Dataset.ProjectionWkt;
        output.SetNoData(1, o.Probability ? double.NaN : CloudClassifier.Nodata);

        long cloud = 0, valid = 0;
        var options = new ClassifyOptions { MaxDegreeOfParallelism = o.Threads };
        void Counts(ReadOnlySpan<byte> m)
        {
            var counts = CloudClassifier.Count(m);
            cloud += counts.Cloud;
            valid += counts.Valid;
        }

        if (o.Probability)
        {
            var mask = new byte[o.BlockRows * w];
            StreamingClassifier.Run(model, source, scaling, null, o.BlockRows, (row, p) =>
            {
                var m = mask.AsSpan(0, p.Length);
                CloudClassifier.Mask(p.Span, model.Threshold, m);
                Counts(m);
                output.Write(1, 0, row, w, p.Length / w, p.Span);
            }, options);
        }
        else
        {
            StreamingClassifier.RunMask(model, source, scaling, null, o.BlockRows, model.Threshold, (row, m) =>
            {
                Counts(m.Span);
                output.Write(1, 0, row, w, m.Length / w, m.Span);
            }, options);
        }

        output.Dispose();

        var seconds = watch.Elapsed.TotalSeconds;
        var px = (double)w * h;
        log.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{o.Output}: {w} x {h} px, model {model.Name}, cloud {(valid > 0 ? (double)cloud / valid : 0):P2} of valid pixels, " +
            $"{seconds:F2} s ({px / seconds / 1e6:F1} Mpx/s), peak memory {PeakMemoryBytes() / 1048576.0:F0} MiB"));
        return 0;
    }

    /// <summary>The process's peak resident set (VmHWM), or 0 where /proc is absent.</summary>
    public static long PeakMemoryBytes()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path))
        {
            return 0;
        }

        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                var kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
