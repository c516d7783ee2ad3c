namespace S2CloudMask.Engine.Raster;

/// <summary>Element types the engine reads and writes (NumPy dtype in brackets).</summary>
public enum ElementType
{
    Float32, // <f4
    Float64, // <f8
    UInt16,  // <u2
    Int16,   // <i2
    UInt8,   // |u1
    Bool,    // |b1
}

public static class ElementTypes
{
    public static int Size(this ElementType type) => type switch
    {
        ElementType.Float32 => 4,
        ElementType.Float64 => 8,
        ElementType.UInt16 or ElementType.Int16 => 2,
        ElementType.UInt8 or ElementType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static bool IsFloatingPoint(this ElementType type) =>
        type is ElementType.Float32 or ElementType.Float64;

    public static string NpyDescr(this ElementType type) => type switch
    {
        ElementType.Float32 => "<f4",
        ElementType.Float64 => "<f8",
        ElementType.UInt16 => "<u2",
        ElementType.Int16 => "<i2",
        ElementType.UInt8 => "|u1",
        ElementType.Bool => "|b1",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Parses a NumPy dtype descriptor; null for one the engine does not support.</summary>
    public static ElementType? FromNpyDescr(string descr) => descr switch
    {
        "<f4" or "=f4" => ElementType.Float32,
        "<f8" or "=f8" => ElementType.Float64,
        "<u2" or "=u2" => ElementType.UInt16,
        "<i2" or "=i2" => ElementType.Int16,
        "|u1" or "<u1" or "=u1" => ElementType.UInt8,
        "|b1" or "<b1" or "=b1" => ElementType.Bool,
        _ => null,
    };
}
