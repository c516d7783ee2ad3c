namespace S2CloudMask.Engine.Raster;

/// <summary>
/// A dense C-order array of one <see cref="ElementType"/>: what a .npy file holds, and the
/// engine's exchange format for band arrays, probabilities and masks.
/// </summary>
public sealed class NdArray
{
    public NdArray(ElementType type, int[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        var count = ElementCount(shape);
        if (data.LongLength < count * type.Size())
        {
            throw new ArgumentException($"data holds {data.LongLength} bytes, shape needs {count * type.Size()}", nameof(data));
        }

        Type = type;
        Shape = shape;
        Data = data;
    }

    public ElementType Type { get; }

    public int[] Shape { get; }

    /// <summary>Little-endian element bytes in C order.</summary>
    public byte[] Data { get; }

    public int Rank => Shape.Length;

    public long Length => ElementCount(Shape);

    public static NdArray Create<T>(T[] values, params int[] shape)
        where T : unmanaged
    {
        var type = TypeOf<T>();
        var bytes = new byte[values.Length * type.Size()];
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes);
        return new NdArray(type, shape, bytes);
    }

    public static NdArray Zeros(ElementType type, params int[] shape) =>
        new(type, shape, new byte[ElementCount(shape) * type.Size()]);

    /// <summary>The elements as <typeparamref name="T"/>, which must match <see cref="Type"/>.</summary>
    public Span<T> AsSpan<T>()
        where T : unmanaged
    {
        if (TypeOf<T>() != Type && !(typeof(T) == typeof(byte) && Type == ElementType.Bool))
        {
            throw new InvalidOperationException($"array holds {Type}, not {typeof(T).Name}");
        }

        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(Data.AsSpan(0, checked((int)(Length * Type.Size()))));
    }

    public static long ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException("negative dimension in shape");
            }

            n = checked(n * d);
        }

        return n;
    }

    public static ElementType TypeOf<T>()
        where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return ElementType.Float32;
        if (typeof(T) == typeof(double)) return ElementType.Float64;
        if (typeof(T) == typeof(ushort)) return ElementType.UInt16;
        if (typeof(T) == typeof(short)) return ElementType.Int16;
        if (typeof(T) == typeof(byte)) return ElementType.UInt8;
        if (typeof(T) == typeof(bool)) return ElementType.Bool;
        throw new NotSupportedException($"no element type for {typeof(T).Name}");
    }

    public string ShapeText => "(" + string.Join(", ", Shape) + (Shape.Length == 1 ? ",)" : ")");
}
