using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Features;

/// <summary>
/// <see cref="Vector256.Log(Vector256{float})"/>, bit for bit, in a form the JIT inlines into
/// the loop that calls it. The library's logarithm is a call the JIT does not inline (its
/// generic body is too large): each call passes its vector through the stack and returns
/// through it, and the fused feature kernels call it once per logarithm per vector.
/// <para>
/// How: the positive normal floats take the library's own main path, the same constants and
/// the same operations in the same order (those of .NET's <c>VectorMath.LogSingle</c>, after
/// AMD's AOCL-LibM <c>logf</c>): the exponent and a mantissa m in [2/3, 4/3) are split off
/// around 0x3F2AAAAB, and log(m) is a polynomial in m - 1 evaluated by fused multiply-adds.
/// A vector with any other lane (zero, subnormal, negative, infinite, NaN) goes through
/// <see cref="Vector256.Log(Vector256{float})"/> itself, so those lanes are the library's by
/// construction. Used only where fused multiply-adds are in hardware (<see cref="IsSupported"/>),
/// where the library's multiply-adds are fused too.
/// </para>
/// <para>
/// Measured on an AMD EPYC of the Zen 3 generation (AVX2), <c>fast</c>'s mask path at 2 Mpx,
/// the library's call against this, alternating: features 3.97 and 3.84 ns per pixel against
/// 2.55 and 2.46 on one thread, the classifier on two threads 129.1 and 130.5 Mpx/s against
/// 157.8 and 150.7 (<c>stages</c>); <c>throughput</c> at 4 Mpx on two threads, four rounds,
/// 113.2-133.7 against 127.8-156.4 Mpx/s, each round faster. BenchmarkDotNet, 2,048
/// pixels: the published <c>spectral</c>'s nine features 6.91 against 4.73 us, a plane's
/// logarithms 2.29 against 1.42 us (<c>MathF.Log</c> one at a time 13.0).
/// </para>
/// </summary>
public static class InlineLog
{
    /// <summary>Whether <see cref="Log"/> matches the library here: fused multiply-adds in hardware.</summary>
    public static bool IsSupported => Fma.IsSupported && Vector256.IsHardwareAccelerated;

    /// <summary>The natural logarithm of each lane, as <see cref="Vector256.Log(Vector256{float})"/> gives it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log(Vector256<float> x)
    {
        // x - 2^-126 (the least normal) as unsigned: below 0x7F000000 exactly for the
        // positive normal floats; anything else (negative, zero, subnormal, infinite, NaN)
        // wraps above it.
        var fromLeastNormal = x.AsUInt32() - Vector256.Create(0x0080_0000u);
        if (Vector256.GreaterThanOrEqualAny(fromLeastNormal, Vector256.Create(0x7F00_0000u)))
        {
            return Vector256.Log(x);
        }

        // x = 2^e * (1 + r), 1 + r in [2/3, 4/3).
        var shifted = x.AsInt32() - Vector256.Create(0x3F2A_AAAB);
        var e = Vector256.ConvertToSingle(Vector256.ShiftRightArithmetic(shifted, 23));
        var r = ((shifted & Vector256.Create(0x007F_FFFF)) + Vector256.Create(0x3F2A_AAAB)).AsSingle() - Vector256<float>.One;
        var r2 = r * r;
        var r4 = r2 * r2;

        var c89 = MultiplyAdd(Constant(0x3E1378FF), r, Constant(0xBDF53CF9));
        var c789 = MultiplyAdd(r2, Constant(0xBE0BDB8A), c89);
        var c56 = MultiplyAdd(Constant(0x3E0E5D15), r, Constant(0xBE2B030F));
        var c34 = MultiplyAdd(Constant(0x3E4CFE3A), r, Constant(0xBE7FFD80));
        var c3456 = MultiplyAdd(c56, r2, c34);
        var c12 = MultiplyAdd(Constant(0x3EAAAA2F), r, Constant(0xBF000002));
        var low = MultiplyAdd(r2, c12, r);
        var mid = MultiplyAdd(r4, c3456, low);
        var poly = MultiplyAdd(r4 * r4, c789, mid);
        return MultiplyAdd(e, Constant(0x3F317218), poly);
    }

    /// <summary>a * b + c, rounded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Vector256.FusedMultiplyAdd(a, b, c);

    /// <summary>The float of these IEEE 754 bits in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Constant(uint bits) => Vector256.Create(bits).AsSingle();
}
