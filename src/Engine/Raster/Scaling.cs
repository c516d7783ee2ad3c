namespace S2CloudMask.Engine.Raster;

/// <summary>
/// How stored values become reflectance 0..1: <c>reflectance = (value + Offset) * Scale</c>;
/// a value equal to <see cref="NoData"/> (or NaN) marks the whole pixel as nodata.
/// </summary>
/// <remarks>
/// Sentinel-2 products of processing baseline 04.00 and later store DN with a +1000 offset,
/// so they need <c>Offset = -1000</c> (see <see cref="Baseline0400Offset"/>).
/// </remarks>
public readonly record struct Scaling(double Scale, double Offset, double? NoData)
{
    public const double DefaultIntegerScale = 1e-4;

    /// <summary>The DN offset products of processing baseline 04.00 and later carry.</summary>
    public const double Baseline0400Offset = -1000;

    public static Scaling Identity { get; } = new(1, 0, null);

    /// <summary>
    /// The defaults for a stored type, overridden by whatever the caller gave: floats are
    /// taken as reflectance with NaN as nodata; integers as DN with scale 1e-4 and nodata 0.
    /// </summary>
    public static Scaling Resolve(ElementType type, double? scale = null, double? offset = null, double? noData = null)
    {
        var isFloat = type.IsFloatingPoint();
        var s = new Scaling(
            scale ?? (isFloat ? 1 : DefaultIntegerScale),
            offset ?? 0,
            noData ?? (isFloat ? null : 0));
        if (!(s.Scale > 0) || !double.IsFinite(s.Scale))
        {
            throw new InvalidInputException("bad-scaling", $"scale must be a positive number, got {s.Scale}");
        }

        if (!double.IsFinite(s.Offset))
        {
            throw new InvalidInputException("bad-scaling", $"offset must be finite, got {s.Offset}");
        }

        return s;
    }

    public bool IsIdentity => Scale == 1 && Offset == 0;

    /// <summary>
    /// The divisor when <c>1 / Scale</c> is a whole number, else 0. The reference divides
    /// by 10000 rather than multiplying by 1e-4; in float32 the two differ in the last bit
    /// for some values, so dividing keeps the features bit-identical.
    /// </summary>
    public float Divisor
    {
        get
        {
            var inv = 1 / Scale;
            var rounded = Math.Round(inv);
            return rounded >= 1 && Math.Abs(inv - rounded) <= 1e-9 * rounded ? (float)rounded : 0f;
        }
    }
}
