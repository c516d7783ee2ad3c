using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Masks;

/// <summary>What a spectral-temporal model needs a reference for.</summary>
/// <param name="TileId">The caller's <c>tileId</c>, if any.</param>
/// <param name="Model">The model that needs the reference.</param>
/// <param name="Height">Rows of the observation; the reference must match.</param>
/// <param name="Width">Columns of the observation.</param>
/// <param name="Georeference">Where the observation lies, when known.</param>
/// <param name="Stack">
/// The (y, x, band, time) stack being classified, when the input is one: a provider may compute
/// the geomedian from it (and cache it under <paramref name="TileId"/>) when none is cached.
/// </param>
/// <param name="StackScaling">How the stack's values become reflectance.</param>
public sealed record ReferenceRequest(
    string? TileId, CloudModel Model, int Height, int Width, Georeference? Georeference, BandStack? Stack = null, Scaling StackScaling = default);

/// <summary>A reference image (a geomedian of the same place) and how to turn its values into reflectance.</summary>
/// <param name="Image">The reference, the observation's size.</param>
/// <param name="Scaling">How its values become reflectance.</param>
/// <param name="Origin">"cached", "computed" (from the posted stack, now cached) or "computed-uncached"; answered as X-Reference.</param>
public sealed record ReferenceImage(BandImage Image, Scaling Scaling, string Origin = "cached");

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
