using S2CloudMask.Api.Classification;
using S2CloudMask.Api.Masks;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Geomedian;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Geomedians;

/// <summary>Computes a geomedian with the engine on a classifier-pool worker, so it counts against the same bounds as classifications.</summary>
public sealed class GeomedianComputer(ClassifierPool pool)
{
    public async Task<StoredGeomedian> ComputeAsync(
        string tileId, BandStack stack, Scaling scaling, Georeference? georeference, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stack);
        if (stack.Bands != SpectralBands.Count)
        {
            throw new InvalidInputException(
                "wrong-band-count",
                $"a geomedian stack needs the {SpectralBands.Count} bands {string.Join(" ", SpectralBands.Names)} on its third axis, got {stack.Bands}");
        }

        var result = await pool.RunAsync(
            options => GeometricMedian.Compute(
                stack, scaling, maxDegreeOfParallelism: options.MaxDegreeOfParallelism, cancellationToken: options.CancellationToken),
            cancellationToken);
        var summary = new GeomedianSummary(
            result.Dates,
            result.MinDatesUsed,
            result.MaxDatesUsed,
            result.PixelsWithoutData,
            result.TotalIterations,
            result.MaxIterations,
            Math.Round(result.Elapsed.TotalMilliseconds, 1));
        return StoredGeomedian.FromValues(tileId, result.Values, result.Height, result.Width, result.Bands, georeference, source, summary);
    }
}
