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
/// the builds before and after alternating: features 4.50 and 4.09 ns per pixel against 2.17
/// and 2.35, the classifier 13.11 and 13.46 against 9.99 and 8.71 (one thread,
/// <c>stages</c>); <c>throughput</c> at 4 Mpx on two threads, four rounds, 122.7-141.4
/// against 138.9-151.0 Mpx/s (medians 135.8 and 148.8), each round faster. BenchmarkDotNet,
/// 2,048 pixels, two runs: the published <c>spectral</c>'s nine features 6.91 and 7.92 us
/// against 4.73 and 5.85, a plane's logarithms 2.29 and 2.53 us against 1.42 and 1.45
/// (<c>MathF.Log</c> one at a time 13.0 and 14.0).
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

        // x = 2^e * (1 + r), 1 + r in [2/3, 4/3); log(1 + r) by fused multiply-adds (each
        // a * b + c rounded once), in the library's order.
        var shifted = x.AsInt32() - Vector256.Create(0x3F2A_AAAB);
        var e = Vector256.ConvertToSingle(Vector256.ShiftRightArithmetic(shifted, 23));
        var r = ((shifted & Vector256.Create(0x007F_FFFF)) + Vector256.Create(0x3F2A_AAAB)).AsSingle() - Vector256<float>.One;
        var r2 = r * r;
        var r4 = r2 * r2;

        var c89 = Vector256.FusedMultiplyAdd(Constant(0x3E1378FF), r, Constant(0xBDF53CF9));
        var c789 = Vector256.FusedMultiplyAdd(r2, Constant(0xBE0BDB8A), c89);
        var c56 = Vector256.FusedMultiplyAdd(Constant(0x3E0E5D15), r, Constant(0xBE2B030F));
        var c34 = Vector256.FusedMultiplyAdd(Constant(0x3E4CFE3A), r, Constant(0xBE7FFD80));
        var c3456 = Vector256.FusedMultiplyAdd(c56, r2, c34);
        var c12 = Vector256.FusedMultiplyAdd(Constant(0x3EAAAA2F), r, Constant(0xBF000002));
        var low = Vector256.FusedMultiplyAdd(r2, c12, r);
        var mid = Vector256.FusedMultiplyAdd(r4, c3456, low);
        var poly = Vector256.FusedMultiplyAdd(r4 * r4, c789, mid);
        return Vector256.FusedMultiplyAdd(e, Constant(0x3F317218), poly);
    }

    /// <summary>The float of these IEEE 754 bits in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Constant(uint bits) => Vector256.Create(bits).AsSingle();
}
