using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Engine.Geomedian;

/// <summary>What a geomedian computation did.</summary>
public sealed record GeomedianResult(
    float[] Values,
    int Height,
    int Width,
    int Bands,
    int Dates,
    int MinDatesUsed,
    int MaxDatesUsed,
    long PixelsWithoutData,
    long TotalIterations,
    int MaxIterations,
    TimeSpan Elapsed)
{
    /// <summary>The geomedian as a (y, x, band) float32 array, NaN where no date had data.</summary>
    public NdArray ToArray() => NdArray.Create(Values, Height, Width, Bands);
}

/// <summary>
/// Per-pixel geometric median of a time series (Roberts et al. 2017): the Vardi-Zhang
/// modified Weiszfeld iteration of hdmedians' <c>nangeomedian</c>, in float64, started at
/// the mean over the valid dates, stopped when a step is shorter than <c>eps</c> or after
/// <c>maxIterations</c>. Dates with any nodata band are dropped per pixel. Rows run in
/// parallel; every pixel is computed on its own, so the result does not depend on threads.
/// </summary>
public static class GeometricMedian
{
    public static GeomedianResult Compute(BandStack stack, Scaling scaling, double eps = 1e-4, int maxIterations = 2000, int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stack);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int h = stack.Height, w = stack.Width, nb = stack.Bands, nt = stack.Dates;
        var values = new float[(long)h * w * nb];

        // A (y, x, band, time) row is one interleaved image of band x time channels: decoding it
        // in one pass reads each pixel's values where they lie together.
        var channels = BandImage.Interleaved(stack.Array.Data, stack.Array.Type, h, w, nb * nt);
        long totalIterations = 0, empty = 0;
        int maxIter = 0, minUsed = int.MaxValue, maxUsed = 0;
        var gate = new object();

        Parallel.For(
            0,
            h,
            new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism, CancellationToken = cancellationToken },
            () => new RowState(nb, nt),
            (y, _, state) =>
            {
                for (var x0 = 0; x0 < w; x0 += RowState.Chunk)
                {
                    var count = Math.Min(RowState.Chunk, w - x0);

                    // Reflectance as the reference has it: DN divided by 10000 in float32; a
                    // nodata value makes its date unusable for this pixel, not the others.
                    PixelDecoder.Decode(channels, scaling, ((long)y * w) + x0, count, state.Planes, RowState.Chunk, propagateNoData: false);
                    for (var c = 0; c < count; c++)
                    {
                        Pixel(state, y, x0 + c, c);
                    }
                }

                return state;
            },
            state =>
            {
                lock (gate)
                {
                    totalIterations += state.Iterations;
                    empty += state.Empty;
                    maxIter = Math.Max(maxIter, state.MaxIterations);
                    minUsed = Math.Min(minUsed, state.MinUsed);
                    maxUsed = Math.Max(maxUsed, state.MaxUsed);
                }
            });

        return new GeomedianResult(values, h, w, nb, nt, minUsed == int.MaxValue ? 0 : minUsed, maxUsed, empty, totalIterations, maxIter, watch.Elapsed);

        // One pixel: channel (b, t) of chunk column c is at state.Planes[(b * nt + t) * Chunk + c].
        void Pixel(RowState state, int y, int x, int c)
        {
            var n = 0;
            for (var t = 0; t < nt; t++)
            {
                var usable = true;
                for (var b = 0; b < nb && usable; b++)
                {
                    usable = !float.IsNaN(state.Planes[((((b * nt) + t) * RowState.Chunk)) + c]);
                }

                if (usable)
                {
                    state.Valid[n++] = t;
                }
            }

            var padded = Padded(n);
            for (var b = 0; b < nb; b++)
            {
                var row = state.X.AsSpan(b * padded, padded);
                for (var i = 0; i < n; i++)
                {
                    row[i] = state.Planes[((((b * nt) + state.Valid[i]) * RowState.Chunk)) + c];
                }

                row[n..].Clear();
            }

            var dest = values.AsSpan((int)((((long)y * w) + x) * nb), nb);
            if (n == 0)
            {
                dest.Fill(float.NaN);
                state.Empty++;
                return;
            }

            var iterations = SolveVector(state.X.AsSpan(0, nb * padded), n, nb, eps, maxIterations, state.Y);
            for (var b = 0; b < nb; b++)
            {
                dest[b] = (float)state.Y[b];
            }

            state.Iterations += iterations;
            state.MaxIterations = Math.Max(state.MaxIterations, iterations);
            state.MinUsed = Math.Min(state.MinUsed, n);
            state.MaxUsed = Math.Max(state.MaxUsed, n);
        }
    }

    /// <summary>
    /// The modified Weiszfeld iteration for one pixel: <paramref name="x"/> holds n points of
    /// nb coordinates; the median is left in <paramref name="y"/>. Returns the iterations run.
    /// </summary>
    public static int Solve(ReadOnlySpan<float> x, int n, int nb, double eps, int maxIterations, double[] y, double[] next, double[] t, double[] d)
    {
        // Start at the mean over dates.
        Array.Clear(y, 0, nb);
        for (var i = 0; i < n; i++)
        {
            for (var b = 0; b < nb; b++)
            {
                y[b] += x[(i * nb) + b];
            }
        }

        for (var b = 0; b < nb; b++)
        {
            y[b] /= n;
        }

        var iteration = 0;
        while (iteration < maxIterations)
        {
            iteration++;
            var zeros = 0;
            double dinvSum = 0;
            for (var i = 0; i < n; i++)
            {
                double s = 0;
                for (var b = 0; b < nb; b++)
                {
                    var diff = x[(i * nb) + b] - y[b];
                    s += diff * diff;
                }

                var dist = Math.Sqrt(s);
                if (dist == 0)
                {
                    zeros++;
                    d[i] = 0;
                }
                else
                {
                    d[i] = 1 / dist;
                    dinvSum += d[i];
                }
            }

            if (zeros == n)
            {
                break;
            }

            Array.Clear(t, 0, nb);
            for (var i = 0; i < n; i++)
            {
                if (d[i] == 0)
                {
                    continue;
                }

                var weight = d[i] / dinvSum;
                for (var b = 0; b < nb; b++)
                {
                    t[b] += weight * x[(i * nb) + b];
                }
            }

            if (Advance(t.AsSpan(0, nb), y.AsSpan(0, nb), next.AsSpan(0, nb), dinvSum, zeros, eps))
            {
                break;
            }
        }

        return iteration;
    }

    /// <summary>
    /// Moves y to the Weiszfeld point t (the weighted mean of the points), with Vardi and
    /// Zhang's correction when <paramref name="zeros"/> points coincide with y; true when the
    /// step was shorter than eps.
    /// </summary>
    private static bool Advance(ReadOnlySpan<double> t, Span<double> y, Span<double> next, double dinvSum, int zeros, double eps)
    {
        var nb = y.Length;
        if (zeros == 0)
        {
            t.CopyTo(next);
        }
        else
        {
            double r2 = 0;
            for (var b = 0; b < nb; b++)
            {
                var v = (t[b] - y[b]) * dinvSum;
                r2 += v * v;
            }

            var r = Math.Sqrt(r2);
            var rinv = r == 0 ? 0 : zeros / r;
            for (var b = 0; b < nb; b++)
            {
                next[b] = (Math.Max(0, 1 - rinv) * t[b]) + (Math.Min(1, rinv) * y[b]);
            }
        }

        double step2 = 0;
        for (var b = 0; b < nb; b++)
        {
            var v = y[b] - next[b];
            step2 += v * v;
            y[b] = next[b];
        }

        return Math.Sqrt(step2) < eps;
    }

    private static int Padded(int n) => (n + Vector256<double>.Count - 1) / Vector256<double>.Count * Vector256<double>.Count;

    /// <summary>
    /// The same iteration as <see cref="Solve"/>, vectorised over dates: <paramref name="x"/>
    /// holds n points band-major (<c>x[b * padded + i]</c>, padded with zeros to whole
    /// vectors). Sums run in another order than the scalar twin, so results differ from it in
    /// the last bits, far inside the 1e-4 tolerance of the float64 reference.
    /// </summary>
    public static int SolveVector(ReadOnlySpan<double> x, int n, int nb, double eps, int maxIterations, double[] y)
    {
        var padded = x.Length / nb;
        var nv = padded / Vector256<double>.Count;
        if (padded * nb != x.Length || padded < n || nv * Vector256<double>.Count != padded)
        {
            throw new ArgumentException("points must be band-major and padded to whole vectors", nameof(x));
        }

        var xv = MemoryMarshal.Cast<double, Vector256<double>>(x);
        Span<Vector256<double>> dinv = stackalloc Vector256<double>[nv];
        Span<Vector256<double>> valid = stackalloc Vector256<double>[nv];
        Span<double> next = stackalloc double[nb];
        Span<double> t = stackalloc double[nb];
        for (var v = 0; v < nv; v++)
        {
            var index = Vector256.Create((double)(v * 4), (v * 4) + 1, (v * 4) + 2, (v * 4) + 3);
            valid[v] = Vector256.LessThan(index, Vector256.Create((double)n));
        }

        for (var b = 0; b < nb; b++)
        {
            var sum = Vector256<double>.Zero;
            for (var v = 0; v < nv; v++)
            {
                sum += xv[(b * nv) + v];
            }

            y[b] = Vector256.Sum(sum) / n;
        }

        var iteration = 0;
        while (iteration < maxIterations)
        {
            iteration++;
            for (var v = 0; v < nv; v++)
            {
                dinv[v] = Vector256<double>.Zero;
            }

            // Squared distances of every point to y, accumulated band by band.
            for (var b = 0; b < nb; b++)
            {
                var yb = Vector256.Create(y[b]);
                for (var v = 0; v < nv; v++)
                {
                    var d = xv[(b * nv) + v] - yb;
                    dinv[v] = Vector256.FusedMultiplyAdd(d, d, dinv[v]);
                }
            }

            var zeros = 0;
            var dinvSumV = Vector256<double>.Zero;
            for (var v = 0; v < nv; v++)
            {
                var dist = Vector256.Sqrt(dinv[v]);
                var zero = Vector256.Equals(dist, Vector256<double>.Zero) & valid[v];
                zeros += BitOperations.PopCount(zero.ExtractMostSignificantBits());
                var use = valid[v] & ~zero;
                dinv[v] = Vector256.ConditionalSelect(use, Vector256<double>.One / dist, Vector256<double>.Zero);
                dinvSumV += dinv[v];
            }

            if (zeros == n)
            {
                break;
            }

            var dinvSum = Vector256.Sum(dinvSumV);
            for (var b = 0; b < nb; b++)
            {
                var acc = Vector256<double>.Zero;
                for (var v = 0; v < nv; v++)
                {
                    acc = Vector256.FusedMultiplyAdd(dinv[v], xv[(b * nv) + v], acc);
                }

                t[b] = Vector256.Sum(acc) / dinvSum;
            }

            if (Advance(t, y, next, dinvSum, zeros, eps))
            {
                break;
            }
        }

        return iteration;
    }

    private sealed class RowState(int nb, int nt)
    {
        /// <summary>Pixels decoded together: their band x time channels fit in the L2 cache.</summary>
        public const int Chunk = 64;

        public float[] Planes { get; } = new float[nt * nb * Chunk];

        public double[] X { get; } = new double[Padded(nt) * nb];

        public int[] Valid { get; } = new int[nt];

        public double[] Y { get; } = new double[nb];

        public long Iterations { get; set; }

        public long Empty { get; set; }

        public int MaxIterations { get; set; }

        public int MinUsed { get; set; } = int.MaxValue;

        public int MaxUsed { get; set; }
    }
}
