using S2CloudMask.Api.Classification;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Masks;

/// <summary>Runs the requested models over the decoded input on a pool worker and derives the output.</summary>
public sealed class MaskComputation(ModelCatalog catalog, IReferenceProvider references, ClassifierPool pool)
{
    public async Task<MaskResult> RunAsync(MaskInput input, MaskQuery query, CancellationToken cancellationToken)
    {
        var model = catalog.Get(query.Model);
        var shadow = query.Output == "classes" ? catalog.Get(query.ShadowModel!) : null;
        var dates = SelectDates(input, query);
        if (query.Format == "png" && dates.Count > 1)
        {
            throw new InvalidInputException(
                "png-one-date",
                $"a PNG holds one date but the stack has {input.Dates}: ask for date=k (0..{input.Dates - 1}) or format=geotiff / npy");
        }

        var scaling = Scaling.Resolve(input.Type, query.Scale, query.Offset, query.Nodata ?? input.NoData);
        var reference = await FindReferenceAsync(model, input, query, scaling, cancellationToken);
        var shadowReference = shadow is null ? null
            : shadow.NeedsReference && model.NeedsReference ? reference
            : await FindReferenceAsync(shadow, input, query, scaling, cancellationToken);
        var threshold = query.Threshold is { } t ? (float)t : model.Threshold;
        var pixels = input.Height * input.Width;

        return await pool.RunAsync(
            options =>
            {
                var probabilities = new float[dates.Count][];
                var codes = query.Output == "probability" ? null : new byte[dates.Count][];
                long valid = 0, positive = 0, shadowPixels = 0;
                // Every element of this is written before it is read: no need to zero it first.
                byte[]? shadowMask = shadow is null ? null : GC.AllocateUninitializedArray<byte>(pixels);
                for (var i = 0; i < dates.Count; i++)
                {
                    var image = input.Date(dates[i]);
                    if (codes is null)
                    {
                        var p = GC.AllocateUninitializedArray<float>(pixels);
                        CloudClassifier.Probability(model, image, scaling, reference?.Image, reference?.Scaling ?? Scaling.Identity, p, options);
                        probabilities[i] = p;
                        foreach (var v in p)
                        {
                            valid += float.IsNaN(v) ? 0 : 1;
                            positive += v > threshold ? 1 : 0;
                        }

                        continue;
                    }

                    var mask = GC.AllocateUninitializedArray<byte>(pixels);
                    CloudClassifier.Mask(model, image, scaling, reference?.Image, reference?.Scaling ?? Scaling.Identity, threshold, mask, options);
                    if (shadow is not null)
                    {
                        CloudClassifier.Mask(shadow, image, scaling, shadowReference?.Image, shadowReference?.Scaling ?? Scaling.Identity, shadow.Threshold, shadowMask!, options);
                        Combine(mask, shadowMask!);
                    }

                    var counts = CloudClassifier.Count(mask);
                    valid += counts.Valid;
                    positive += counts.Cloud;
                    shadowPixels += counts.Shadow;

                    codes[i] = mask;
                }

                return new MaskResult
                {
                    Output = query.Output,
                    Height = input.Height,
                    Width = input.Width,
                    Dates = dates,
                    KeepsTimeAxis = input.IsStack && query.Date is null,
                    Probabilities = codes is null ? probabilities : null,
                    Codes = codes,
                    Model = model.Name,
                    ShadowModel = shadow?.Name,
                    Threshold = threshold,
                    CloudFraction = valid == 0 ? 0 : (double)positive / valid,
                    ShadowFraction = shadow is null ? null : valid == 0 ? 0 : (double)shadowPixels / valid,
                    Georeference = input.Georeference,
                    ReferenceOrigin = (reference ?? shadowReference)?.Origin,
                };
            },
            cancellationToken);
    }

    /// <summary>Classes from a cloud mask and a shadow mask, in place: nodata in either stays nodata, cloud wins over shadow.</summary>
    public static void Combine(Span<byte> cloud, ReadOnlySpan<byte> shadow)
    {
        for (var i = 0; i < cloud.Length; i++)
        {
            var c = cloud[i];
            var s = shadow[i];
            cloud[i] = c == CloudClassifier.Nodata || s == CloudClassifier.Nodata ? CloudClassifier.Nodata
                : c == 1 ? (byte)1
                : s == 1 ? (byte)2
                : (byte)0;
        }
    }

    private static List<int> SelectDates(MaskInput input, MaskQuery query)
    {
        if (query.Date is { } date)
        {
            if (date >= input.Dates)
            {
                throw new InvalidInputException(
                    "bad-parameter",
                    input.IsStack
                        ? $"date={date} is outside the stack's {input.Dates} dates (0..{input.Dates - 1})"
                        : $"date={date} given but the input is a single observation (only date=0 exists)");
            }

            return [date];
        }

        return [.. Enumerable.Range(0, input.Dates)];
    }

    private async Task<ReferenceImage?> FindReferenceAsync(
        CloudModel model, MaskInput input, MaskQuery query, Scaling scaling, CancellationToken cancellationToken)
    {
        if (!model.NeedsReference)
        {
            return null;
        }

        var found = await references.FindAsync(
            new ReferenceRequest(query.TileId, model, input.Height, input.Width, input.Georeference, input.Stack, scaling), cancellationToken);
        return found ?? throw new InvalidInputException(
            "missing-reference",
            query.TileId is null
                ? $"model '{model.Name}' is spectral-temporal and needs a reference (geomedian): pass tileId naming a cached geomedian"
                : $"model '{model.Name}' is spectral-temporal and no usable reference (geomedian) is cached for tileId '{query.TileId}'");
    }
}
