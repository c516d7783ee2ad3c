using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Models;
using S2CloudMask.Train.Data;

namespace S2CloudMask.Train.Validation;

/// <summary>How one model does on the corpus, measured with the engine exactly as the service runs it.</summary>
public sealed record ModelEvaluation(
    string Model,
    Confusion HeldOut,
    IReadOnlyList<DateResult> HeldOutByDate,
    Confusion OtherPlace,
    Confusion ClearWright,
    IReadOnlyList<DateResult> Unlabelled,
    IReadOnlyDictionary<string, SceneMasks> Masks);

/// <summary>One date: its label counts, the model's results and the fraction it calls cloud.</summary>
public sealed record DateResult(string Scene, string Date, Confusion Confusion, double CloudFraction);

/// <summary>Masks of every scene (1 cloud, 0 clear, 255 nodata), keyed by scene name.</summary>
public sealed record SceneMasks(string Scene, byte[] Mask);

/// <summary>Agreement of two models' masks over the pixels both score.</summary>
public sealed record Agreement(string Dataset, long Pixels, long Equal)
{
    public double Fraction => Pixels == 0 ? double.NaN : (double)Equal / Pixels;
}

public static class Validator
{
    /// <summary>Runs the model on every scene and scores it on the labelled ones.</summary>
    public static ModelEvaluation Evaluate(CloudModel model, WrightCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(corpus);
        var masks = new Dictionary<string, SceneMasks>(StringComparer.Ordinal);
        var byDate = new List<DateResult>();
        var unlabelled = new List<DateResult>();
        var heldOut = Confusion.Empty;
        var other = Confusion.Empty;
        var clear = Confusion.Empty;
        foreach (var scene in corpus.Scenes)
        {
            var mask = MaskOf(model, scene);
            masks[scene.Name] = new SceneMasks(scene.Name, mask);
            var cloudFraction = CloudFraction(mask);
            var confusion = scene.Labels is null ? Confusion.Empty : Confusion.Of(mask, scene.Labels);
            switch (scene.Role)
            {
                case SceneRole.Test:
                    heldOut += confusion;
                    byDate.Add(new DateResult(scene.Name, scene.Date, confusion, cloudFraction));
                    break;
                case SceneRole.Check:
                    other += confusion;
                    break;
                case SceneRole.Unlabelled:
                    unlabelled.Add(new DateResult(scene.Name, scene.Date, confusion, cloudFraction));
                    break;
                case SceneRole.Train when !scene.ReferenceIsGeomedian:
                    clear += confusion;
                    break;
                default:
                    break;
            }
        }

        return new ModelEvaluation(model.Name, heldOut, byDate, other, clear, unlabelled, masks);
    }

    /// <summary>The model's mask of a scene, computed as the service computes it (opening included).</summary>
    public static byte[] MaskOf(CloudModel model, Scene scene)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scene);
        var p = new float[scene.PixelCount];
        CloudClassifier.Probability(model, scene.Image, scene.Scaling, scene.Reference, scene.ReferenceScaling, p);
        var mask = new byte[p.Length];
        CloudClassifier.Mask(p, model.Threshold, mask);
        return mask;
    }

    /// <summary>
    /// Agreement with another model's masks on the stack (all dates together), the clear Wright
    /// scene and the other place: pixels where both masks are 0 or 1, and how many are equal.
    /// </summary>
    public static IReadOnlyList<Agreement> AgreementWith(ModelEvaluation ours, ModelEvaluation theirs, WrightCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(ours);
        ArgumentNullException.ThrowIfNull(theirs);
        ArgumentNullException.ThrowIfNull(corpus);
        var groups = corpus.Scenes.GroupBy(s => s.ReferenceIsGeomedian ? "stack-wright (30 dates)" : s.Name);
        var result = new List<Agreement>();
        foreach (var g in groups)
        {
            long pixels = 0, equal = 0;
            foreach (var scene in g)
            {
                var a = ours.Masks[scene.Name].Mask;
                var b = theirs.Masks[scene.Name].Mask;
                for (var i = 0; i < a.Length; i++)
                {
                    if (a[i] <= 1 && b[i] <= 1)
                    {
                        pixels++;
                        if (a[i] == b[i])
                        {
                            equal++;
                        }
                    }
                }
            }

            result.Add(new Agreement(g.Key, pixels, equal));
        }

        return result;
    }

    private static double CloudFraction(byte[] mask)
    {
        long valid = 0, cloud = 0;
        foreach (var m in mask)
        {
            if (m <= 1)
            {
                valid++;
                cloud += m;
            }
        }

        return valid == 0 ? double.NaN : (double)cloud / valid;
    }
}
