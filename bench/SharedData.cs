using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Bench;

/// <summary>
/// Finds the read-only reference material in <c>../shared</c> beside the repository root
/// (the folder holding S2CloudMask.sln), wherever the benchmark binary was built.
/// </summary>
internal static class SharedData
{
    public const string ClearScene = "clear-wright-20160101.npy";

    public const string Stack = "stack-wright.npy";

    /// <summary>Names our built-in models (src/Api/Models/BuiltIn) rather than the published ones.</summary>
    public const string OursPrefix = "ours/";

    private static readonly Lazy<string> RootDirectory = new(FindRoot);

    public static string RepositoryRoot => RootDirectory.Value;

    public static string Directory
    {
        get
        {
            var shared = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));
            if (!System.IO.Directory.Exists(shared))
            {
                throw new BenchException($"the shared reference folder is missing: expected {shared} (../shared beside the repository root {RepositoryRoot})");
            }

            return shared;
        }
    }

    public static string DataFile(string name) => Require(Path.Combine(Directory, "data", name));

    /// <summary>A model file by name (<c>fast</c>: the published one; <c>ours/fast</c>: our built-in one) or by path.</summary>
    public static string ModelFile(string nameOrPath)
    {
        if (File.Exists(nameOrPath))
        {
            return Path.GetFullPath(nameOrPath);
        }

        if (nameOrPath.StartsWith(OursPrefix, StringComparison.Ordinal))
        {
            return Require(Path.Combine(RepositoryRoot, "src", "Api", "Models", "BuiltIn", nameOrPath[OursPrefix.Length..] + ".model.json"));
        }

        return Require(Path.Combine(Directory, "models", nameOrPath.EndsWith(".model.json", StringComparison.Ordinal) ? nameOrPath : nameOrPath + ".model.json"));
    }

    /// <summary>The clear scene repeated <paramref name="repeats"/> times along y, as the reference's bench builds it.</summary>
    public static NdArray TiledClearScene(int repeats)
    {
        var clear = Npy.Read(DataFile(ClearScene));
        if (clear.Rank != 3 || clear.Type != ElementType.Float32)
        {
            throw new BenchException($"{ClearScene}: expected a float32 (y, x, band) array, got {clear.Type} {clear.ShapeText}");
        }

        var bytes = clear.Data.AsSpan(0, checked((int)(clear.Length * sizeof(float))));
        var tiled = new byte[checked((long)bytes.Length * repeats)];
        for (var r = 0; r < repeats; r++)
        {
            bytes.CopyTo(tiled.AsSpan(r * bytes.Length));
        }

        return new NdArray(ElementType.Float32, [clear.Shape[0] * repeats, clear.Shape[1], clear.Shape[2]], tiled);
    }

    /// <summary>
    /// The 30-date stack as one image of varied scenes: each date's 100 x 100 pixels (DN /
    /// 10000 in float32, as the reference scales them) below the one before, clear and cloudy
    /// dates in their own order, the whole repeated to about <paramref name="mpx"/> megapixels.
    /// </summary>
    public static NdArray DatesOneBelowAnother(double mpx)
    {
        var stack = Npy.Read(DataFile(Stack));
        if (stack.Rank != 4 || stack.Type != ElementType.Float32)
        {
            throw new BenchException($"{Stack}: expected a float32 (y, x, band, time) array, got {stack.Type} {stack.ShapeText}");
        }

        var (height, width, bands, dates) = (stack.Shape[0], stack.Shape[1], stack.Shape[2], stack.Shape[3]);
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(stack.Data.AsSpan(0, checked((int)(stack.Length * sizeof(float)))));
        var once = dates * height * width * bands;
        var repeats = Math.Max(1, (int)Math.Round(mpx * 1e6 / (dates * height * width)));
        var image = new float[checked(once * repeats)];
        var at = 0;
        for (var t = 0; t < dates; t++)
        {
            for (var k = 0; k < height * width * bands; k++)
            {
                image[at++] = values[(k * dates) + t] / 10000f;
            }
        }

        for (var r = 1; r < repeats; r++)
        {
            image.AsSpan(0, once).CopyTo(image.AsSpan(r * once));
        }

        var bytes = new byte[image.Length * sizeof(float)];
        Buffer.BlockCopy(image, 0, bytes, 0, bytes.Length);
        return new NdArray(ElementType.Float32, [dates * height * repeats, width, bands], bytes);
    }

    /// <summary>How many copies of the clear scene make about <paramref name="mpx"/> megapixels (the reference's rounding).</summary>
    public static int RepeatsFor(double mpx)
    {
        const double clearPixels = 410 * 565;
        return Math.Max(1, (int)Math.Round(mpx * 1e6 / clearPixels, MidpointRounding.ToEven));
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "S2CloudMask.sln")))
            {
                return dir.FullName;
            }
        }

        throw new BenchException($"cannot find the repository root (a folder holding S2CloudMask.sln) above {AppContext.BaseDirectory}");
    }

    private static string Require(string path) =>
        File.Exists(path) ? path : throw new BenchException($"missing reference file {path}");
}

/// <summary>A usage or setup error: printed without a stack trace.</summary>
internal sealed class BenchException(string message) : Exception(message);
