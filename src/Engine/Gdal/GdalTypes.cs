namespace S2CloudMask.Engine.Gdal;

/// <summary>GDALDataType, with GDAL's numeric values.</summary>
public enum GdalDataType
{
    Unknown = 0,
    Byte = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Float64 = 7,
    CInt16 = 8,
    CInt32 = 9,
    CFloat32 = 10,
    CFloat64 = 11,

    /// <summary>GDAL 3.5+.</summary>
    UInt64 = 12,

    /// <summary>GDAL 3.5+.</summary>
    Int64 = 13,

    /// <summary>GDAL 3.7+; not accepted as a buffer type here because 3.6 lacks it.</summary>
    Int8 = 14,
}

/// <summary>GDALRIOResampleAlg: how a window is resampled when the buffer size differs from it.</summary>
public enum Resampling
{
    Nearest = 0,
    Bilinear = 1,
    Cubic = 2,
    CubicSpline = 3,
    Lanczos = 4,
    Average = 5,
    Mode = 6,
}

/// <summary>Maps buffer element types to GDALDataType.</summary>
internal static class GdalTypes
{
    /// <summary>The GDAL type for a buffer of <typeparamref name="T"/>; the checks fold away per T.</summary>
    public static GdalDataType Of<T>()
        where T : unmanaged
    {
        if (typeof(T) == typeof(byte))
        {
            return GdalDataType.Byte;
        }

        if (typeof(T) == typeof(ushort))
        {
            return GdalDataType.UInt16;
        }

        if (typeof(T) == typeof(short))
        {
            return GdalDataType.Int16;
        }

        if (typeof(T) == typeof(uint))
        {
            return GdalDataType.UInt32;
        }

        if (typeof(T) == typeof(int))
        {
            return GdalDataType.Int32;
        }

        if (typeof(T) == typeof(float))
        {
            return GdalDataType.Float32;
        }

        if (typeof(T) == typeof(double))
        {
            return GdalDataType.Float64;
        }

        if (typeof(T) == typeof(ulong))
        {
            return GdalDataType.UInt64;
        }

        if (typeof(T) == typeof(long))
        {
            return GdalDataType.Int64;
        }

        throw new NotSupportedException(
            $"{typeof(T).Name} has no GDAL data type here (use byte, ushort, short, uint, int, float, double, ulong or long)");
    }
}
