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
/// parallel, and within a row pixels go through <see cref="LaneSolver"/> one per SIMD lane,
/// each exactly as the scalar <see cref="Solve"/> would take it: the result depends neither
/// on threads nor on the vector width.
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
                var solver = state.Solver;
                var lanes = solver.Lanes;
                for (var x0 = 0; x0 < w; x0 += RowState.Chunk)
                {
                    var count = Math.Min(RowState.Chunk, w - x0);

                    // Reflectance as the reference has it: DN divided by 10000 in float32; a
                    // nodata value makes its date unusable for this pixel, not the others.
                    PixelDecoder.Decode(channels, scaling, ((long)y * w) + x0, count, state.Planes, RowState.Chunk, propagateNoData: false);
                    for (var c0 = 0; c0 < count; c0 += lanes)
                    {
                        // Channel (b, t) of chunk column c is at Planes[(b * nt + t) * Chunk + c].
                        var filled = Math.Min(lanes, count - c0);
                        solver.Load(state.Planes.AsSpan(c0), RowState.Chunk, filled);
                        solver.Solve(eps, maxIterations);
                        Collect(state, ((long)y * w) + x0 + c0, filled);
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

        // The solver's first `filled` lanes are the pixels from `first` on.
        void Collect(RowState state, long first, int filled)
        {
            var solver = state.Solver;
            var medians = solver.Y;
            var lanes = solver.Lanes;
            for (var l = 0; l < filled; l++)
            {
                var dest = values.AsSpan((int)((first + l) * nb), nb);
                var n = solver.Used[l];
                if (n == 0)
                {
                    dest.Fill(float.NaN);
                    state.Empty++;
                    continue;
                }

                for (var b = 0; b < nb; b++)
                {
                    dest[b] = (float)medians[(b * lanes) + l];
                }

                var iterations = solver.Iterations[l];
                state.Iterations += iterations;
                state.MaxIterations = Math.Max(state.MaxIterations, iterations);
                state.MinUsed = Math.Min(state.MinUsed, n);
                state.MaxUsed = Math.Max(state.MaxUsed, n);
            }
        }
    }

    /// <summary>
    /// The modified Weiszfeld iteration for one pixel: <paramref name="x"/> holds n points of
    /// nb coordinates; the median is left in <paramref name="y"/>. Returns the iterations run.
    /// This is the scalar twin of <see cref="LaneSolver"/>, operation for operation (fused
    /// multiply-adds included), so the two agree bit for bit.
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
            Array.Clear(t, 0, nb);
            for (var i = 0; i < n; i++)
            {
                double s = 0;
                for (var b = 0; b < nb; b++)
                {
                    var diff = x[(i * nb) + b] - y[b];
                    s = Math.FusedMultiplyAdd(diff, diff, s);
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

                // The weighted sum of the points, divided by the sum of weights once at the end.
                for (var b = 0; b < nb; b++)
                {
                    t[b] = Math.FusedMultiplyAdd(d[i], x[(i * nb) + b], t[b]);
                }
            }

            if (zeros == n)
            {
                break;
            }

            for (var b = 0; b < nb; b++)
            {
                t[b] /= dinvSum;
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
                r2 = Math.FusedMultiplyAdd(v, v, r2);
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
            step2 = Math.FusedMultiplyAdd(v, v, step2);
            y[b] = next[b];
        }

        return Math.Sqrt(step2) < eps;
    }

    private sealed class RowState(int nb, int nt)
    {
        /// <summary>Pixels decoded together: their band x time channels fit in the L2 cache.</summary>
        public const int Chunk = 64;

        public float[] Planes { get; } = new float[nt * nb * Chunk];

        public LaneSolver Solver { get; } = LaneSolver.Create(nb, nt);

        public long Iterations { get; set; }

        public long Empty { get; set; }

        public int MaxIterations { get; set; }

        public int MinUsed { get; set; } = int.MaxValue;

        public int MaxUsed { get; set; }
    }
}
