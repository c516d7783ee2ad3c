using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace S2CloudMask.Engine.Features;

/// <summary>
/// Spectral-temporal distances between an observation and a reference (both as band planes:
/// band b of pixel i at <c>b * stride + i</c>). Each vector kernel has a scalar twin that
/// defines its arithmetic; both sum over bands in NumPy's pairwise order, because the
/// reference computes these with <c>np.sum(..., axis=2)</c> in float32 and a tree split can
/// hinge on the last bit.
/// </summary>
public static class SpectralKernels
{
    /// <summary>sum_b |x_b - y_b| / sum_b |x_b + y_b|.</summary>
    public static unsafe void BrayCurtis(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int bands, int stride, Span<float> dest)
    {
        Check(x, y, bands, stride, dest);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var num = stackalloc Lanes[bands];
            var den = stackalloc Lanes[bands];
            var n = new ReadOnlySpan<Lanes>(num, bands);
            var d = new ReadOnlySpan<Lanes>(den, bands);

            // Lengths were checked above: the loop reads through pointers.
            fixed (float* px = x)
            fixed (float* py = y)
            fixed (float* to = dest)
            {
                if (bands is >= 8 and < 16)
                {
                    // Sentinel-2's 10 bands: NumPy's order for 8..15 terms is the tree of the
                    // first eight, then the rest one by one; kept in registers.
                    for (; i <= dest.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                    {
                        var (n0, d0) = Terms(px, py, i);
                        var (n1, d1) = Terms(px, py, stride + i);
                        var (n2, d2) = Terms(px, py, (2 * stride) + i);
                        var (n3, d3) = Terms(px, py, (3 * stride) + i);
                        var (n4, d4) = Terms(px, py, (4 * stride) + i);
                        var (n5, d5) = Terms(px, py, (5 * stride) + i);
                        var (n6, d6) = Terms(px, py, (6 * stride) + i);
                        var (n7, d7) = Terms(px, py, (7 * stride) + i);
                        var ns = ((n0 + n1) + (n2 + n3)) + ((n4 + n5) + (n6 + n7));
                        var ds = ((d0 + d1) + (d2 + d3)) + ((d4 + d5) + (d6 + d7));
                        for (var b = 8; b < bands; b++)
                        {
                            var (nb, db) = Terms(px, py, (b * stride) + i);
                            ns += nb;
                            ds += db;
                        }

                        (ns / ds).Store(to + i);
                    }
                }

                for (; i <= dest.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    for (var b = 0; b < bands; b++)
                    {
                        var xv = Vector256.Load(px + (b * stride) + i);
                        var yv = Vector256.Load(py + (b * stride) + i);
                        num[b] = new(Vector256.Abs(xv - yv));
                        den[b] = new(Vector256.Abs(xv + yv));
                    }

                    (PairwiseSum(n).Value / PairwiseSum(d).Value).Store(to + i);
                }
            }
        }

        BrayCurtisScalar(x, y, bands, stride, dest, i);
    }

    /// <summary>|x - y| and |x + y| for eight pixels of one band.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector256<float> Diff, Vector256<float> Sum) Terms(float* x, float* y, int at)
    {
        var xv = Vector256.Load(x + at);
        var yv = Vector256.Load(y + at);
        return (Vector256.Abs(xv - yv), Vector256.Abs(xv + yv));
    }

    public static void BrayCurtisScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int bands, int stride, Span<float> dest, int start = 0)
    {
        Span<float> num = stackalloc float[bands];
        Span<float> den = stackalloc float[bands];
        for (var i = start; i < dest.Length; i++)
        {
            for (var b = 0; b < bands; b++)
            {
                var xv = x[(b * stride) + i];
                var yv = y[(b * stride) + i];
                num[b] = MathF.Abs(xv - yv);
                den[b] = MathF.Abs(xv + yv);
            }

            dest[i] = PairwiseSum(num) / PairwiseSum(den);
        }
    }

    /// <summary>1 - cosine similarity: 1 - sum(x y) / (sqrt(sum x^2) sqrt(sum y^2)).</summary>
    public static void Cosine(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int bands, int stride, Span<float> dest)
    {
        Check(x, y, bands, stride, dest);
        Span<float> xy = stackalloc float[bands];
        Span<float> xx = stackalloc float[bands];
        Span<float> yy = stackalloc float[bands];
        for (var i = 0; i < dest.Length; i++)
        {
            for (var b = 0; b < bands; b++)
            {
                var xv = x[(b * stride) + i];
                var yv = y[(b * stride) + i];
                xy[b] = xv * yv;
                xx[b] = xv * xv;
                yy[b] = yv * yv;
            }

            dest[i] = 1f - (PairwiseSum(xy) / (MathF.Sqrt(PairwiseSum(xx)) * MathF.Sqrt(PairwiseSum(yy))));
        }
    }

    /// <summary>sqrt(sum_b (x_b - y_b)^2).</summary>
    public static void Euclidean(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int bands, int stride, Span<float> dest)
    {
        Check(x, y, bands, stride, dest);
        Span<float> sq = stackalloc float[bands];
        for (var i = 0; i < dest.Length; i++)
        {
            for (var b = 0; b < bands; b++)
            {
                var d = x[(b * stride) + i] - y[(b * stride) + i];
                sq[b] = d * d;
            }

            dest[i] = MathF.Sqrt(PairwiseSum(sq));
        }
    }

    /// <summary>
    /// Normalised difference (a - b) / (a + b) in one pass: the same three float32 operations
    /// as the three passes it replaces, so the same bits. Returns whether any result is NaN.
    /// </summary>
    public static bool NormalizedDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dest) =>
        FloatSpans.MapCheckingNaN<NormalizedDifferenceKernel>(a, b, dest);

    private readonly struct NormalizedDifferenceKernel : FloatSpans.IBinaryKernel
    {
        public static Vector512<float> Apply(Vector512<float> x, Vector512<float> y) => (x - y) / (x + y);

        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> y) => (x - y) / (x + y);

        public static float Apply(float x, float y) => (x - y) / (x + y);
    }

    /// <summary>
    /// Non-linear difference ratio: g(xa, xb) - g(ya, yb) with
    /// g(a, b) = (2 (a^2 + b^2) + 1.5 b + 0.5 a) / (a + b + 0.5), in the reference's operation order.
    /// </summary>
    public static void Nldr(ReadOnlySpan<float> xa, ReadOnlySpan<float> xb, ReadOnlySpan<float> ya, ReadOnlySpan<float> yb, Span<float> dest)
    {
        if (xa.Length < dest.Length || xb.Length < dest.Length || ya.Length < dest.Length || yb.Length < dest.Length)
        {
            throw new ArgumentException("input spans shorter than destination");
        }

        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= dest.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var r = G(Vector512.Create(xa.Slice(i)), Vector512.Create(xb.Slice(i)))
                    - G(Vector512.Create(ya.Slice(i)), Vector512.Create(yb.Slice(i)));
                r.CopyTo(dest.Slice(i));
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= dest.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var r = G(Vector256.Create(xa.Slice(i)), Vector256.Create(xb.Slice(i)))
                    - G(Vector256.Create(ya.Slice(i)), Vector256.Create(yb.Slice(i)));
                r.CopyTo(dest.Slice(i));
            }
        }

        NldrScalar(xa, xb, ya, yb, dest, i);
    }

    public static void NldrScalar(ReadOnlySpan<float> xa, ReadOnlySpan<float> xb, ReadOnlySpan<float> ya, ReadOnlySpan<float> yb, Span<float> dest, int start = 0)
    {
        for (var i = start; i < dest.Length; i++)
        {
            dest[i] = G(xa[i], xb[i]) - G(ya[i], yb[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float G(float a, float b) =>
        ((2f * ((a * a) + (b * b))) + (1.5f * b) + (0.5f * a)) / (a + b + 0.5f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> G(Vector512<float> a, Vector512<float> b) =>
        ((Vector512.Create(2f) * ((a * a) + (b * b))) + (Vector512.Create(1.5f) * b) + (Vector512.Create(0.5f) * a))
        / (a + b + Vector512.Create(0.5f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> G(Vector256<float> a, Vector256<float> b) =>
        ((Vector256.Create(2f) * ((a * a) + (b * b))) + (Vector256.Create(1.5f) * b) + (Vector256.Create(0.5f) * a))
        / (a + b + Vector256.Create(0.5f));

    /// <summary>NumPy's pairwise summation (numpy/core/src/umath/loops_utils.h) for float32.</summary>
    public static float PairwiseSum(ReadOnlySpan<float> a) => PairwiseSum<float>(a);

    /// <summary>
    /// NumPy's pairwise summation order, for floats or lane-wise for vectors of floats: below
    /// 8 terms one by one from zero; up to 128 in eight running sums combined as
    /// ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the rest one by one; above that, halves.
    /// </summary>
    private static T PairwiseSum<T>(ReadOnlySpan<T> a)
        where T : unmanaged, IAdditionOperators<T, T, T>, IAdditiveIdentity<T, T>
    {
        if (a.Length < 8)
        {
            var res = T.AdditiveIdentity;
            foreach (var v in a)
            {
                res += v;
            }

            return res;
        }

        if (a.Length <= 128)
        {
            // Eight running sums in locals (registers), not a buffer: this runs per pixel.
            T r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7];
            var i = 8;
            for (; i < a.Length - (a.Length % 8); i += 8)
            {
                r0 += a[i];
                r1 += a[i + 1];
                r2 += a[i + 2];
                r3 += a[i + 3];
                r4 += a[i + 4];
                r5 += a[i + 5];
                r6 += a[i + 6];
                r7 += a[i + 7];
            }

            var res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
            for (; i < a.Length; i++)
            {
                res += a[i];
            }

            return res;
        }

        var n2 = a.Length / 2;
        n2 -= n2 % 8;
        return PairwiseSum(a[..n2]) + PairwiseSum(a[n2..]);
    }

    /// <summary>A vector of floats as a number, so the generic summation runs lane-wise.</summary>
    private readonly record struct Lanes(Vector256<float> Value) : IAdditionOperators<Lanes, Lanes, Lanes>, IAdditiveIdentity<Lanes, Lanes>
    {
        public static Lanes AdditiveIdentity => default;

        public static Lanes operator +(Lanes left, Lanes right) => new(left.Value + right.Value);

        public static ReadOnlySpan<Lanes> Of(ReadOnlySpan<Vector256<float>> v) => MemoryMarshal.Cast<Vector256<float>, Lanes>(v);
    }

    private static void Check(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int bands, int stride, Span<float> dest)
    {
        var need = ((bands - 1) * stride) + dest.Length;
        if (bands < 1 || stride < dest.Length || x.Length < need || y.Length < need)
        {
            throw new ArgumentException("band planes shorter than bands x stride");
        }
    }
}
