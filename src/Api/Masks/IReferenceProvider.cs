using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Masks;

/// <summary>What a spectral-temporal model needs a reference for.</summary>
/// <param name="TileId">The caller's <c>tileId</c>, if any.</param>
/// <param name="Model">The model that needs the reference.</param>
/// <param name="Height">Rows of the observation; the reference must match.</param>
/// <param name="Width">Columns of the observation.</param>
/// <param name="Georeference">Where the observation lies, when known.</param>
public sealed record ReferenceRequest(string? TileId, CloudModel Model, int Height, int Width, Georeference? Georeference);

/// <summary>A reference image (a geomedian of the same place) and how to turn its values into reflectance.</summary>
public sealed record ReferenceImage(BandImage Image, Scaling Scaling);

/// <summary>
/// Finds the reference (geomedian) a spectral-temporal model compares an observation with.
/// The geomedian cache plugs in here; until then <see cref="NoReferenceProvider"/> has none.
/// </summary>
public interface IReferenceProvider
{
    /// <summary>The reference, or null when none is known for the request.</summary>
    ValueTask<ReferenceImage?> FindAsync(ReferenceRequest request, CancellationToken cancellationToken);
}

/// <summary>Knows no reference: every spectral-temporal request is answered "missing-reference".</summary>
public sealed class NoReferenceProvider : IReferenceProvider
{
    public ValueTask<ReferenceImage?> FindAsync(ReferenceRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult<ReferenceImage?>(null);
}
