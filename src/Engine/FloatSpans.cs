using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine;

/// <summary>Small span helpers shared by the kernels.</summary>
internal static class FloatSpans
{
    /// <summary>True when any element is NaN (vectorised: NaN is the only value not equal to itself).</summary>
    public static bool ContainsNaN(ReadOnlySpan<float> values)
    {
        var i = 0;
        for (; i <= values.Length - 32; i += 32)
        {
            // NaN is unordered with everything: four compares, one branch per 32 values.
            var a = Vector256.Create(values.Slice(i, 8));
            var b = Vector256.Create(values.Slice(i + 8, 8));
            var c = Vector256.Create(values.Slice(i + 16, 8));
            var d = Vector256.Create(values.Slice(i + 24, 8));
            if ((Vector256.Equals(a, a) & Vector256.Equals(b, b) & Vector256.Equals(c, c) & Vector256.Equals(d, d)).AsInt32() != Vector256<int>.AllBitsSet)
            {
                return true;
            }
        }

        for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var v = Vector256.Create(values.Slice(i, Vector256<float>.Count));
            if (!Vector256.EqualsAll(v, v))
            {
                return true;
            }
        }

        for (; i < values.Length; i++)
        {
            if (float.IsNaN(values[i]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// <c>dest[i] = a[i] * b[i]</c> (as TensorPrimitives.Multiply: one float32 product each),
    /// and whether any product is NaN, noted as they are written.
    /// </summary>
    public static bool MultiplyCheckingNaN(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dest) =>
        MapCheckingNaN<Product>(a, b, dest);

    /// <summary>
    /// <c>dest[i] = TOp(a[i], b[i])</c> with AVX-512, AVX2 or scalar arithmetic (the same
    /// float32 operations in each), returning whether any result is NaN.
    /// </summary>
    public static bool MapCheckingNaN<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dest)
        where TOp : struct, IBinaryKernel
    {
        if (a.Length < dest.Length || b.Length < dest.Length)
        {
            throw new ArgumentException("input spans shorter than destination");
        }

        var i = 0;
        var bad = Vector256<float>.Zero;
        if (Vector512.IsHardwareAccelerated)
        {
            var bad512 = Vector512<float>.Zero;
            for (; i <= dest.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var r = TOp.Apply(Vector512.Create(a.Slice(i)), Vector512.Create(b.Slice(i)));
                bad512 |= ~Vector512.Equals(r, r);
                r.CopyTo(dest.Slice(i));
            }

            bad = bad512.GetLower() | bad512.GetUpper();
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= dest.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var r = TOp.Apply(Vector256.Create(a.Slice(i)), Vector256.Create(b.Slice(i)));
                bad |= ~Vector256.Equals(r, r);
                r.CopyTo(dest.Slice(i));
            }
        }

        var nan = bad != Vector256<float>.Zero;
        for (; i < dest.Length; i++)
        {
            dest[i] = TOp.Apply(a[i], b[i]);
            nan |= float.IsNaN(dest[i]);
        }

        return nan;
    }

    /// <summary>An elementwise float32 operation of two values, written once per width.</summary>
    public interface IBinaryKernel
    {
        static abstract Vector512<float> Apply(Vector512<float> x, Vector512<float> y);

        static abstract Vector256<float> Apply(Vector256<float> x, Vector256<float> y);

        static abstract float Apply(float x, float y);
    }

    private readonly struct Product : IBinaryKernel
    {
        public static Vector512<float> Apply(Vector512<float> x, Vector512<float> y) => x * y;

        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> y) => x * y;

        public static float Apply(float x, float y) => x * y;
    }

    /// <summary><c>dest[i] = 1</c> where <c>values[i]</c> is NaN, else 0.</summary>
    public static void MarkNaN(ReadOnlySpan<float> values, Span<byte> dest)
    {
        if (dest.Length < values.Length)
        {
            throw new ArgumentException("destination too small", nameof(dest));
        }

        var i = 0;
        var one = Vector256.Create((byte)1);
        for (; i <= values.Length - 32; i += 32)
        {
            // Four compares (-1 where NaN), narrowed to 32 bytes in pixel order.
            var bytes = Vector256.Narrow(Vector256.Narrow(IsNaN(values, i), IsNaN(values, i + 8)), Vector256.Narrow(IsNaN(values, i + 16), IsNaN(values, i + 24))).AsByte() & one;
            bytes.CopyTo(dest.Slice(i, 32));
        }

        for (; i < values.Length; i++)
        {
            dest[i] = float.IsNaN(values[i]) ? (byte)1 : (byte)0;
        }
    }

    /// <summary>-1 in the lanes of values[at .. at + 8] that are NaN, else 0.</summary>
    private static Vector256<int> IsNaN(ReadOnlySpan<float> values, int at)
    {
        var v = Vector256.Create(values.Slice(at, 8));
        return (~Vector256.Equals(v, v)).AsInt32();
    }

    /// <summary>NaN where <paramref name="mask"/> is non-zero.</summary>
    public static unsafe void SetNaNWhere(Span<float> values, ReadOnlySpan<byte> mask)
    {
        if (mask.Length < values.Length)
        {
            throw new ArgumentException("mask too small", nameof(mask));
        }

        var i = 0;
        if (Avx2.IsSupported)
        {
            var nan = Vector256.Create(float.NaN);
            fixed (float* v = values)
            fixed (byte* m = mask)
            {
                for (; i <= values.Length - 8; i += 8)
                {
                    if (*(ulong*)(m + i) == 0)
                    {
                        continue;
                    }

                    var set = Vector256.Equals(Avx2.ConvertToVector256Int32(m + i), Vector256<int>.Zero);
                    Vector256.ConditionalSelect(set.AsSingle(), Vector256.Load(v + i), nan).Store(v + i);
                }
            }
        }

        for (; i < values.Length; i++)
        {
            if (mask[i] != 0)
            {
                values[i] = float.NaN;
            }
        }
    }
}
