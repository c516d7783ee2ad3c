using S2CloudMask.Engine.Geomedian;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Train.Data;

/// <summary>
/// The labelled scenes of <c>../shared</c>: the 30-date Wright stack (with the geomedian the
/// engine computes from it), the clear Wright scene and the clear T31TDH scene from another
/// place. The split is by date, so no date is both trained on and tested on.
/// </summary>
public sealed class WrightCorpus
{
    public const string StackFile = "data/stack-wright.npy";
    /// <summary>stack-wright.npy is float32 DN: reflectance = DN x 1e-4.</summary>
    public const double StackScale = 1e-4;

    public const string StackLabelsFile = "labels/stack-wright-labels.npy";
    public const string ClearFile = "data/clear-wright-20160101.npy";
    public const string ClearLabelsFile = "labels/clear-wright-20160101-labels.npy";
    public const string T31File = "data/t31tdh-20150726/stack10.tif";
    public const string T31LabelsFile = "labels/t31tdh-20150726-labels.npy";

    /// <summary>Stack dates labelled all cloud (overcast) that are held out.</summary>
    public static IReadOnlyList<int> TestOvercast { get; } = [2, 17, 29];

    /// <summary>Stack dates labelled all clear that are held out.</summary>
    public static IReadOnlyList<int> TestClear { get; } = [8, 12, 19, 24];

    /// <summary>Partly cloudy stack dates (confident core labelled) that are held out.</summary>
    public static IReadOnlyList<int> TestPartly { get; } = [5];

    /// <summary>Stack dates nobody labelled (dark, haze, small cloud): agreement only.</summary>
    public static IReadOnlyList<int> Unlabelled { get; } = [1, 14, 20, 26, 28];

    /// <summary>
    /// The clear Wright scene is stack date 6 (its window at rows 100.., columns 100.. equals
    /// that date), so it goes with date 6 into training and never into the test set.
    /// </summary>
    public const int ClearSceneStackDate = 6;

    private WrightCorpus(IReadOnlyList<Scene> scenes, GeomedianResult geomedian, string sharedRoot)
    {
        Scenes = scenes;
        Geomedian = geomedian;
        SharedRoot = sharedRoot;
    }

    public IReadOnlyList<Scene> Scenes { get; }

    public GeomedianResult Geomedian { get; }

    public string SharedRoot { get; }

    public IEnumerable<Scene> WithRole(SceneRole role) => Scenes.Where(s => s.Role == role);

    public static IReadOnlyList<int> TestDates { get; } = [.. TestOvercast.Concat(TestClear).Concat(TestPartly).Order()];

    public static SceneRole RoleOfDate(int t) =>
        TestDates.Contains(t) ? SceneRole.Test : Unlabelled.Contains(t) ? SceneRole.Unlabelled : SceneRole.Train;

    public static WrightCorpus Load(string sharedRoot)
    {
        string P(string rel) => Path.Combine(sharedRoot, rel);
        // The stack holds DN as float32, so it needs the DN scale explicitly (floats default to reflectance).
        var (stack, stackScaling) = SceneReader.ReadStack(P(StackFile), StackScale);
        var stackLabels = SceneReader.ReadLabels(P(StackLabelsFile));
        if (stackLabels.Shape[0] != stack.Height || stackLabels.Shape[1] != stack.Width || stackLabels.Shape[2] != stack.Dates)
        {
            throw new InvalidDataException($"{StackLabelsFile} has shape {stackLabels.ShapeText}, the stack is {stack.Array.ShapeText}");
        }

        // Every pixel of the geomedian is computed on its own, so the thread count does not change it.
        var geomedian = GeometricMedian.Compute(stack, stackScaling);
        var reference = BandImage.FromArray(geomedian.ToArray());
        var scenes = new List<Scene>();
        for (var t = 0; t < stack.Dates; t++)
        {
            var role = RoleOfDate(t);
            scenes.Add(new Scene(
                $"stack-wright t{t:D2}", "Wright, ACT (stack)", $"t{t:D2}", stack.Date(t), stackScaling,
                role == SceneRole.Unlabelled ? null : SceneReader.LabelsOfDate(stackLabels, t),
                reference, Scaling.Identity, role, "geomedian of the 30 dates (engine)", true));
        }

        var (clear, clearScaling) = SceneReader.ReadImage(P(ClearFile));
        scenes.Add(new Scene(
            "clear-wright-20160101", "Wright, ACT", "2016-01-01 (= stack t06)", clear, clearScaling,
            Flat(SceneReader.ReadLabels(P(ClearLabelsFile))), clear, clearScaling, SceneRole.Train, "the scene itself (no time series)", false));

        var (t31, t31Scaling) = SceneReader.ReadImage(P(T31File));
        scenes.Add(new Scene(
            "t31tdh-20150726", "T31TDH, France (L1C)", "2015-07-26", t31, t31Scaling,
            Flat(SceneReader.ReadLabels(P(T31LabelsFile))), t31, t31Scaling, SceneRole.Check, "the scene itself (no time series)", false));
        return new WrightCorpus(scenes, geomedian, sharedRoot);
    }

    private static byte[] Flat(NdArray labels) => labels.AsSpan<byte>().ToArray();
}
