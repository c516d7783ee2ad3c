using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Trees;

/// <summary>
/// The logistic function <c>1 / (1 + expf(-x))</c> in float32, XGBoost's transform of a
/// summed margin, with <c>expf</c> computed after glibc's (2.28 and later): <c>x N / ln 2 =
/// k + r</c> in double with N = 32, rounded by adding and taking off 1.5 * 2^52;
/// <c>2^(k/N)</c> from a table of 32 doubles with k / N added to the exponent; <c>2^(r/N)</c>
/// by a cubic in three fused multiply-adds; the product rounded to float once; above 88.72
/// infinity, below -103.97 zero. The scalar form and the 256-bit vector form run the same
/// operations, so a value is the same whichever computes it and whatever the processor's
/// own <c>expf</c> is.
/// <para>
/// Every one of the 2^32 floats was put through both forms once on this project's Xeon
/// (Debian's glibc 2.36): the vector form equals the scalar one everywhere; <c>Exp</c>
/// differs from <c>MathF.Exp</c> (glibc's <c>expf</c>) at 2 inputs, by one unit
/// (32.564632 and -63.09946), and the logistic from <c>1 / (1 + MathF.Exp(-x))</c>, which
/// XGBoost computes and which the engine used before, at none. The vector form took
/// 1.10-1.16 ns per value there where <c>MathF.Exp</c> took 3.80-3.93 (2048 values in L1).
/// </para>
/// </summary>
public static class Logistic
{
    /// <summary>ln 2 / 32 inverted: 0x1.71547652b82fep+0 * 32.</summary>
    private static readonly double InvLn2N = BitConverter.Int64BitsToDouble(0x3FF71547652B82FE) * 32;

    /// <summary>1.5 * 2^52: adding it rounds a double of magnitude below 2^51 to an integer, ties to even.</summary>
    private const double Shift = 6755399441055744.0;

    /// <summary>The cubic's coefficients, scaled for r in units of 1/N: 0x1.c6af84b912394p-5 / N^3, 0x1.ebfce50fac4f3p-3 / N^2, 0x1.62e42ff0c52d6p-1 / N.</summary>
    private static readonly double C0 = BitConverter.Int64BitsToDouble(0x3FAC6AF84B912394) / (32 * 32 * 32);

    private static readonly double C1 = BitConverter.Int64BitsToDouble(0x3FCEBFCE50FAC4F3) / (32 * 32);

    private static readonly double C2 = BitConverter.Int64BitsToDouble(0x3FE62E42FF0C52D6) / 32;

    /// <summary>Above this (0x1.62e42ep6, ln of 2^128) expf overflows to infinity.</summary>
    private static readonly float Overflow = BitConverter.Int32BitsToSingle(0x42B17217);

    /// <summary>Below this (-0x1.9fe368p6, ln of 2^-150) expf is 0.</summary>
    private static readonly float Underflow = BitConverter.Int32BitsToSingle(unchecked((int)0xC2CFF1B4));

    /// <summary>
    /// 2^(i/32) for i = 0 .. 31, correctly rounded to double, as bits less <c>i &lt;&lt; 47</c>
    /// (so adding <c>k &lt;&lt; 47</c> for any k with <c>k mod 32 = i</c> gives 2^(k/32)).
    /// </summary>
    internal static readonly long[] Table =
    [
        0x3FF0000000000000, 0x3FEFD9B0D3158574, 0x3FEFB5586CF9890F, 0x3FEF9301D0125B51,
        0x3FEF72B83C7D517B, 0x3FEF54873168B9AA, 0x3FEF387A6E756238, 0x3FEF1E9DF51FDEE1,
        0x3FEF06FE0A31B715, 0x3FEEF1A7373AA9CB, 0x3FEEDEA64C123422, 0x3FEECE086061892D,
        0x3FEEBFDAD5362A27, 0x3FEEB42B569D4F82, 0x3FEEAB07DD485429, 0x3FEEA47EB03A5585,
        0x3FEEA09E667F3BCD, 0x3FEE9F75E8EC5F74, 0x3FEEA11473EB0187, 0x3FEEA589994CCE13,
        0x3FEEACE5422AA0DB, 0x3FEEB737B0CDC5E5, 0x3FEEC49182A3F090, 0x3FEED503B23E255D,
        0x3FEEE89F995AD3AD, 0x3FEEFF76F2FB5E47, 0x3FEF199BDD85529C, 0x3FEF3720DCEF9069,
        0x3FEF5818DCFBA487, 0x3FEF7C97337B9B5F, 0x3FEFA4AFA2A490DA, 0x3FEFD0765B6E4540,
    ];

    /// <summary>The logistic of one value.</summary>
    public static float Of(float x) => 1f / (1f + Exp(-x));

    /// <summary>expf by glibc's algorithm (see the class: it differs from glibc's own at 2 of the 2^32 floats).</summary>
    public static float Exp(float x)
    {
        if (float.IsNaN(x))
        {
            return x + x;
        }

        if (x > Overflow)
        {
            return float.PositiveInfinity;
        }

        if (x < Underflow)
        {
            return 0f;
        }

        var z = InvLn2N * x;
        var kd = z + Shift;
        var ki = BitConverter.DoubleToInt64Bits(kd);
        kd -= Shift;
        var r = z - kd;
        var s = BitConverter.Int64BitsToDouble(Table[(int)(ki & 31)] + (ki << 47));
        var p = Math.FusedMultiplyAdd(C0, r, C1);
        var q = Math.FusedMultiplyAdd(C2, r, 1.0);
        var y = Math.FusedMultiplyAdd(p, r * r, q);
        return (float)(y * s);
    }

    /// <summary>Replaces every value by its logistic, <see cref="Of"/> bit for bit.</summary>
    public static unsafe void Apply(Span<float> values)
    {
        var i = 0;
        if (Avx2.IsSupported && Fma.IsSupported)
        {
            fixed (long* table = Table)
            {
                for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
                {
                    var v = Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(values), (nuint)i);
                    var e = Exp(-v, table);
                    (Vector256<float>.One / (Vector256<float>.One + e)).StoreUnsafe(ref MemoryMarshal.GetReference(values), (nuint)i);
                }
            }
        }

        for (; i < values.Length; i++)
        {
            values[i] = Of(values[i]);
        }
    }

    /// <summary><see cref="Exp(float)"/> of eight values, four at a time in double; <paramref name="table"/> is <see cref="Table"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Exp(Vector256<float> x, long* table)
    {
        var low = Exp(Avx.ConvertToVector256Double(x.GetLower()), table);
        var high = Exp(Avx.ConvertToVector256Double(x.GetUpper()), table);
        var y = Vector256.Create(Avx.ConvertToVector128Single(low), Avx.ConvertToVector128Single(high));

        // Overflow, underflow and NaN as the scalar form has them (the main path's values there are discarded).
        y = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Overflow)), Vector256.Create(float.PositiveInfinity), y);
        y = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(Underflow)), Vector256<float>.Zero, y);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x + x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<double> Exp(Vector256<double> x, long* table)
    {
        var z = Vector256.Create(InvLn2N) * x;
        var kd = z + Vector256.Create(Shift);
        var ki = kd.AsInt64();
        kd -= Vector256.Create(Shift);
        var r = z - kd;
        var s = (Avx2.GatherVector256(table, ki & Vector256.Create(31L), 8) + Vector256.ShiftLeft(ki, 47)).AsDouble();
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(C0), r, Vector256.Create(C1));
        var q = Vector256.FusedMultiplyAdd(Vector256.Create(C2), r, Vector256<double>.One);
        var y = Vector256.FusedMultiplyAdd(p, r * r, q);
        return y * s;
    }
}
