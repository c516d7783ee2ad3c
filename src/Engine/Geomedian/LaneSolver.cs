using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Geomedian;

/// <summary>
/// The modified Weiszfeld iteration of <see cref="GeometricMedian.Solve"/> for a block of
/// pixels at once, one pixel per SIMD lane. Every lane does exactly the operations of the
/// scalar twin in the same order, so each pixel's median is bit for bit the scalar one,
/// whatever the vector width; a lane that has converged stops moving while the others go on.
/// Vectorising across pixels rather than across dates needs no horizontal sums, and the
/// square roots and divisions, which bound the iteration, all run at full width.
/// </summary>
internal abstract class LaneSolver
{
    /// <summary>
    /// Dates handled together in the inner loops, so that each load of y or of a weighted sum
    /// serves four dates; the dates are padded to a multiple of it with dates without data.
    /// </summary>
    private const int DateBlock = 4;

    protected LaneSolver(int bands, int dates, int lanes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bands);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dates);
        Bands = bands;
        Dates = dates;
        Lanes = lanes;
        Iterations = new int[lanes];
        Used = new int[lanes];
    }

    /// <summary>Lanes of the widest vector this machine runs in hardware (8 with AVX-512).</summary>
    public static int PreferredLanes { get; } =
        Vector512.IsHardwareAccelerated ? Vector512<double>.Count :
        Vector256.IsHardwareAccelerated ? Vector256<double>.Count :
        Vector128<double>.Count;

    public int Bands { get; }

    public int Dates { get; }

    /// <summary>Pixels solved together.</summary>
    public int Lanes { get; }

    /// <summary>
    /// The input, NaN for nodata, in an order of the solver's own (see <see cref="Offset"/>).
    /// <see cref="Solve"/> zeroes the dates it drops.
    /// </summary>
    public abstract Span<double> X { get; }

    /// <summary>The medians: band b of lane l at <c>[b * Lanes + l]</c>; NaN for a lane without data.</summary>
    public abstract ReadOnlySpan<double> Y { get; }

    /// <summary>Iterations each lane ran.</summary>
    public int[] Iterations { get; }

    /// <summary>Dates each lane used (those with data in every band).</summary>
    public int[] Used { get; }

    /// <summary>A solver for <paramref name="lanes"/> pixels (2, 4 or 8); 0 for <see cref="PreferredLanes"/>.</summary>
    public static LaneSolver Create(int bands, int dates, int lanes = 0) => (lanes == 0 ? PreferredLanes : lanes) switch
    {
        8 => new Of<Vector512<double>, Lanes512>(bands, dates),
        4 => new Of<Vector256<double>, Lanes256>(bands, dates),
        2 => new Of<Vector128<double>, Lanes128>(bands, dates),
        _ => throw new ArgumentOutOfRangeException(nameof(lanes), lanes, "lanes must be 2, 4 or 8"),
    };

    /// <summary>
    /// Where band <paramref name="band"/> of date <paramref name="date"/> lies in <see cref="X"/>
    /// for lane 0; lane l follows at +l. Dates go in blocks of four, and within a block band
    /// by band: the four dates of one band are side by side.
    /// </summary>
    public int Offset(int date, int band)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(date);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(date, Dates);
        ArgumentOutOfRangeException.ThrowIfNegative(band);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(band, Bands);
        return ((((date / DateBlock * Bands) + band) * DateBlock) + (date % DateBlock)) * Lanes;
    }

    /// <summary>
    /// Fills <see cref="X"/> from float32 planes: band b of date t of lane l at
    /// <c>planes[((b * Dates) + t) * stride + l]</c>, for the first <paramref name="count"/>
    /// lanes; the other lanes get no data.
    /// </summary>
    public abstract void Load(ReadOnlySpan<float> planes, int stride, int count);

    /// <summary>Runs every lane to convergence (a step shorter than eps) or to maxIterations.</summary>
    public abstract void Solve(double eps, int maxIterations);

    private sealed class Of<TV, TOps>(int bands, int dates) : LaneSolver(bands, dates, TOps.Count)
        where TV : unmanaged
        where TOps : struct, ILanes<TV>
    {
        private readonly int blocks = (dates + DateBlock - 1) / DateBlock;

        // Points, Valid, Median and Sums, one after the other.
        private readonly AlignedVectors<TV> store = new((((dates + DateBlock - 1) / DateBlock * DateBlock) * (bands + 1)) + (2 * bands));

        public override Span<double> X => MemoryMarshal.Cast<TV, double>(Points);

        public override ReadOnlySpan<double> Y => MemoryMarshal.Cast<TV, double>(Median);

        /// <summary>The input as vectors (see <see cref="Offset"/>); padding dates stay zero, as no caller writes them.</summary>
        private Span<TV> Points => store.Span[..(blocks * DateBlock * Bands)];

        /// <summary>All bits set where a date has data in every band; padding dates never have.</summary>
        private Span<TV> Valid => store.Span.Slice(blocks * DateBlock * Bands, blocks * DateBlock);

        /// <summary>y, band by band.</summary>
        private Span<TV> Median => store.Span.Slice(blocks * DateBlock * (Bands + 1), Bands);

        /// <summary>The inverse-distance-weighted sums of the dates, band by band.</summary>
        private Span<TV> Sums => store.Span.Slice((blocks * DateBlock * (Bands + 1)) + Bands, Bands);

        public override void Load(ReadOnlySpan<float> planes, int stride, int count)
        {
            int nb = Bands, nt = Dates, lanes = Lanes;
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, lanes);
            ArgumentOutOfRangeException.ThrowIfLessThan(stride, count);
            var last = (((nb * nt) - 1) * stride) + count;
            ArgumentOutOfRangeException.ThrowIfLessThan(planes.Length, last, nameof(planes));

            // Whole vectors where the planes run on past the last lane (a chunk of a row does),
            // the lanes past count masked to no data; one value at a time otherwise.
            if (planes.Length < last - count + lanes)
            {
                for (var b = 0; b < nb; b++)
                {
                    for (var t = 0; t < nt; t++)
                    {
                        var from = planes.Slice(((b * nt) + t) * stride, count);
                        var to = X.Slice(Offset(t, b), lanes);
                        for (var l = 0; l < lanes; l++)
                        {
                            to[l] = l < count ? from[l] : double.NaN;
                        }
                    }
                }

                return;
            }

            // Unchecked: the length check above covers the last vector read, and Points holds
            // blocks * nb * DateBlock vectors.
            var inPixels = TOps.LessThan(TOps.Indices, TOps.Broadcast(count));
            var noData = TOps.Broadcast(double.NaN);
            ref var p0 = ref MemoryMarshal.GetReference(planes);
            ref var xv = ref MemoryMarshal.GetReference(Points);
            for (var block = 0; block < blocks; block++)
            {
                var t0 = block * DateBlock;
                var inBlock = Math.Min(DateBlock, nt - t0);
                for (var b = 0; b < nb; b++)
                {
                    ref var from = ref Unsafe.Add(ref p0, ((b * nt) + t0) * stride);
                    for (var k = 0; k < inBlock; k++)
                    {
                        Unsafe.Add(ref xv, k) = TOps.Select(inPixels, TOps.Widen(ref Unsafe.Add(ref from, k * stride)), noData);
                    }

                    xv = ref Unsafe.Add(ref xv, DateBlock);
                }
            }
        }

        public override void Solve(double eps, int maxIterations)
        {
            int nb = Bands, nt = Dates;
            var zero = TOps.Zero;
            var one = TOps.Broadcast(1);

            // A date is used where every band has data; dropped dates become zeros, which add
            // nothing to any sum below, so each lane sums exactly what the scalar twin does.
            // The mean, where the iteration starts, is summed in date order as well.
            var n = zero;
            var ys = Median;
            ys.Clear();
            ref var y0 = ref MemoryMarshal.GetReference(ys);
            var xs = Points;
            var valid = Valid;
            for (var t = 0; t < nt; t++)
            {
                // Band b of date t at first + b * DateBlock, all within Points (see Offset).
                ref var first = ref xs[(t / DateBlock * nb * DateBlock) + (t % DateBlock)];
                var ok = TOps.AllBitsSet;
                for (var b = 0; b < nb; b++)
                {
                    var v = Unsafe.Add(ref first, b * DateBlock);
                    ok = TOps.And(ok, TOps.Equal(v, v));
                }

                for (var b = 0; b < nb; b++)
                {
                    ref var v = ref Unsafe.Add(ref first, b * DateBlock);
                    v = TOps.And(v, ok);
                    ref var yb = ref Unsafe.Add(ref y0, b);
                    yb = TOps.Add(yb, v);
                }

                valid[t] = ok;
                n = TOps.Add(n, TOps.And(ok, one));
            }

            for (var b = 0; b < ys.Length; b++)
            {
                ys[b] = TOps.Divide(ys[b], n);
            }

            // Lanes without data are done before they start.
            var active = TOps.Not(TOps.Equal(n, zero));
            for (var l = 0; l < Lanes; l++)
            {
                Used[l] = (int)TOps.Element(n, l);
                Iterations[l] = 0;
            }

            var epsV = TOps.Broadcast(eps);
            var iteration = 0;
            while (TOps.Bits(active) != 0 && iteration < maxIterations)
            {
                iteration++;
                var (zeros, dinvSum) = Accumulate();

                // Every used date at y: y is the median, as in the scalar twin's early break.
                var allAtY = TOps.Equal(zeros, n);
                var anyAtY = TOps.Not(TOps.Equal(zeros, zero));
                var move = TOps.AndNot(active, allAtY);
                var step2 = TOps.Bits(TOps.And(move, anyAtY)) == 0
                    ? MoveToWeightedMean(dinvSum, move)
                    : MoveCorrected(dinvSum, zeros, anyAtY, move);
                var converged = TOps.LessThan(TOps.Sqrt(step2), epsV);
                var finished = TOps.And(active, TOps.Or(allAtY, converged));
                for (var bits = TOps.Bits(finished); bits != 0; bits &= bits - 1)
                {
                    Iterations[BitOperations.TrailingZeroCount(bits)] = iteration;
                }

                active = TOps.AndNot(active, finished);
            }

            for (var bits = TOps.Bits(active); bits != 0; bits &= bits - 1)
            {
                Iterations[BitOperations.TrailingZeroCount(bits)] = iteration;
            }
        }

        /// <summary>
        /// Moves the lanes in <paramref name="move"/> to the weighted mean of their dates (the
        /// sums in <see cref="Sums"/> over <paramref name="dinvSum"/>); returns the squared steps.
        /// Where no moving lane has a date at y, the usual case, this is all
        /// <see cref="MoveCorrected"/> would do, without its square root and division.
        /// </summary>
        private TV MoveToWeightedMean(TV dinvSum, TV move)
        {
            var step2 = TOps.Zero;
            var ys = Median;
            var sums = Sums;
            for (var b = 0; b < ys.Length; b++)
            {
                var next = TOps.Divide(sums[b], dinvSum);
                var v = TOps.Subtract(ys[b], next);
                step2 = TOps.FusedMultiplyAdd(v, v, step2);
                ys[b] = TOps.Select(move, next, ys[b]);
            }

            return step2;
        }

        /// <summary>
        /// As <see cref="MoveToWeightedMean"/>, with Vardi and Zhang's correction for the lanes
        /// in <paramref name="anyAtY"/>, where some dates coincide with y (see Advance).
        /// </summary>
        private TV MoveCorrected(TV dinvSum, TV zeros, TV anyAtY, TV move)
        {
            var zero = TOps.Zero;
            var one = TOps.Broadcast(1);
            var ys = Median;
            var sums = Sums;
            var r2 = zero;
            for (var b = 0; b < ys.Length; b++)
            {
                sums[b] = TOps.Divide(sums[b], dinvSum);
                var v = TOps.Multiply(TOps.Subtract(sums[b], ys[b]), dinvSum);
                r2 = TOps.FusedMultiplyAdd(v, v, r2);
            }

            var r = TOps.Sqrt(r2);
            var rinv = TOps.AndNot(TOps.Divide(zeros, r), TOps.Equal(r, zero));
            var keepT = TOps.Max(zero, TOps.Subtract(one, rinv));
            var keepY = TOps.Min(one, rinv);
            var step2 = zero;
            for (var b = 0; b < ys.Length; b++)
            {
                var corrected = TOps.Add(TOps.Multiply(keepT, sums[b]), TOps.Multiply(keepY, ys[b]));
                var next = TOps.Select(anyAtY, corrected, sums[b]);
                var v = TOps.Subtract(ys[b], next);
                step2 = TOps.FusedMultiplyAdd(v, v, step2);
                ys[b] = TOps.Select(move, next, ys[b]);
            }

            return step2;
        }

        /// <summary>
        /// The hot loop: each date's inverse distance to y (0 for dates at y or without data)
        /// and the inverse-distance-weighted sum of the dates into <see cref="Sums"/>. Returns
        /// the count of used dates at y and the sum of the weights.
        /// </summary>
        private (TV Zeros, TV DinvSum) Accumulate()
        {
            int nb = Bands, nt = Dates;
            var zero = TOps.Zero;
            var zeros = zero;
            var dinvSum = zero;
            Sums.Clear();

            // Unchecked from here on: Points holds blocks * nb * DateBlock vectors, Valid
            // blocks * DateBlock, Median and Sums nb. The loops walk refs rather than
            // index, which saves the JIT an address computation per load.
            ref var xv = ref MemoryMarshal.GetReference(Points);
            ref var vb = ref MemoryMarshal.GetReference(Valid);
            ref var y0 = ref MemoryMarshal.GetReference(Median);
            ref var a0 = ref MemoryMarshal.GetReference(Sums);
            ref var yEnd = ref Unsafe.Add(ref y0, nb);

            // Software-pipelined: block k's dates are summed with their weights only after
            // block k + 1's square roots and divisions have been started, so that sums waiting
            // on the divider do not stall the work that could run beside it.
            TV w0 = zero, w1 = zero, w2 = zero, w3 = zero;
            ref var xb = ref xv;
            for (var block = 0; block <= blocks; block++)
            {
                TV n0 = zero, n1 = zero, n2 = zero, n3 = zero;
                ref var xNext = ref xv;
                if (block < blocks)
                {
                    TV s0 = zero, s1 = zero, s2 = zero, s3 = zero;
                    for (ref var yb = ref y0; Unsafe.IsAddressLessThan(ref yb, ref yEnd); yb = ref Unsafe.Add(ref yb, 1))
                    {
                        var d0 = TOps.Subtract(xv, yb);
                        var d1 = TOps.Subtract(Unsafe.Add(ref xv, 1), yb);
                        var d2 = TOps.Subtract(Unsafe.Add(ref xv, 2), yb);
                        var d3 = TOps.Subtract(Unsafe.Add(ref xv, 3), yb);
                        s0 = TOps.FusedMultiplyAdd(d0, d0, s0);
                        s1 = TOps.FusedMultiplyAdd(d1, d1, s1);
                        s2 = TOps.FusedMultiplyAdd(d2, d2, s2);
                        s3 = TOps.FusedMultiplyAdd(d3, d3, s3);
                        xv = ref Unsafe.Add(ref xv, DateBlock);
                    }

                    // Padding dates weigh nothing: skip their square roots and divisions, the
                    // slowest instructions here.
                    var live = nt - (block * DateBlock);
                    n0 = Weight(s0, vb, ref zeros, ref dinvSum);
                    n1 = live > 1 ? Weight(s1, Unsafe.Add(ref vb, 1), ref zeros, ref dinvSum) : zero;
                    n2 = live > 2 ? Weight(s2, Unsafe.Add(ref vb, 2), ref zeros, ref dinvSum) : zero;
                    n3 = live > 3 ? Weight(s3, Unsafe.Add(ref vb, 3), ref zeros, ref dinvSum) : zero;
                    vb = ref Unsafe.Add(ref vb, DateBlock);
                }

                // The previous block (none before the first): xb runs up to xNext.
                ref var a = ref a0;
                for (; Unsafe.IsAddressLessThan(ref xb, ref xNext); xb = ref Unsafe.Add(ref xb, DateBlock))
                {
                    var sum = TOps.FusedMultiplyAdd(w0, xb, a);
                    sum = TOps.FusedMultiplyAdd(w1, Unsafe.Add(ref xb, 1), sum);
                    sum = TOps.FusedMultiplyAdd(w2, Unsafe.Add(ref xb, 2), sum);
                    a = TOps.FusedMultiplyAdd(w3, Unsafe.Add(ref xb, 3), sum);
                    a = ref Unsafe.Add(ref a, 1);
                }

                (w0, w1, w2, w3) = (n0, n1, n2, n3);
            }

            return (zeros, dinvSum);

            // 1 / distance, or 0 for a date at y (counted) or without data.
            static TV Weight(TV s, TV valid, ref TV zeros, ref TV dinvSum)
            {
                var dist = TOps.Sqrt(s);
                var atY = TOps.And(TOps.Equal(dist, TOps.Zero), valid);
                zeros = TOps.Add(zeros, TOps.And(atY, TOps.Broadcast(1)));
                var dinv = TOps.And(TOps.AndNot(valid, atY), TOps.Divide(TOps.Broadcast(1), dist));
                dinvSum = TOps.Add(dinvSum, dinv);
                return dinv;
            }
        }
    }

    /// <summary>
    /// Vectors in one pinned array, from a 64-byte boundary on: the GC aligns arrays to 8 bytes
    /// only, and a vector that straddles two cache lines loads at half speed. Pinned, the array
    /// never moves, so the boundary stays where it was found.
    /// </summary>
    private sealed class AlignedVectors<TV>
        where TV : unmanaged
    {
        private const int Alignment = 64;
        private readonly double[] buffer;
        private readonly int start;
        private readonly int length;

        public AlignedVectors(int count)
        {
            length = count * (Unsafe.SizeOf<TV>() / sizeof(double));
            buffer = GC.AllocateArray<double>(length + (Alignment / sizeof(double)), pinned: true);
            unsafe
            {
                var misalignment = (nint)Unsafe.AsPointer(ref buffer[0]) % Alignment;
                start = (int)((Alignment - misalignment) % Alignment / sizeof(double));
            }
        }

        public Span<TV> Span => MemoryMarshal.Cast<double, TV>(buffer.AsSpan(start, length));
    }

    /// <summary>
    /// The vector operations of the solver at one width; as a struct type argument they let
    /// the JIT compile <see cref="Of{TV, TOps}.Solve"/> once per width with every call inlined.
    /// </summary>
    private interface ILanes<TV>
        where TV : unmanaged
    {
        static abstract int Count { get; }

        static abstract TV Zero { get; }

        static abstract TV AllBitsSet { get; }

        /// <summary>0, 1, 2, ... lane by lane.</summary>
        static abstract TV Indices { get; }

        static abstract TV Broadcast(double value);

        /// <summary>Count floats from <paramref name="source"/> on, as doubles.</summary>
        static abstract TV Widen(ref float source);

        static abstract double Element(TV v, int lane);

        static abstract TV Add(TV a, TV b);

        static abstract TV Subtract(TV a, TV b);

        static abstract TV Multiply(TV a, TV b);

        static abstract TV Divide(TV a, TV b);

        static abstract TV FusedMultiplyAdd(TV a, TV b, TV c);

        static abstract TV Sqrt(TV a);

        static abstract TV Max(TV a, TV b);

        static abstract TV Min(TV a, TV b);

        static abstract TV Equal(TV a, TV b);

        static abstract TV LessThan(TV a, TV b);

        static abstract TV And(TV a, TV b);

        static abstract TV Or(TV a, TV b);

        /// <summary><paramref name="a"/> and not <paramref name="b"/>.</summary>
        static abstract TV AndNot(TV a, TV b);

        static abstract TV Not(TV a);

        /// <summary><paramref name="a"/> where <paramref name="mask"/> is set, else <paramref name="b"/>.</summary>
        static abstract TV Select(TV mask, TV a, TV b);

        /// <summary>One bit per lane: set where the lane's sign bit (a mask's) is.</summary>
        static abstract uint Bits(TV mask);
    }

    private readonly struct Lanes512 : ILanes<Vector512<double>>
    {
        public static int Count => Vector512<double>.Count;

        public static Vector512<double> Zero => Vector512<double>.Zero;

        public static Vector512<double> AllBitsSet => Vector512<double>.AllBitsSet;

        public static Vector512<double> Indices => Vector512<double>.Indices;

        public static Vector512<double> Broadcast(double value) => Vector512.Create(value);

        public static Vector512<double> Widen(ref float source)
        {
            // One instruction where AVX-512 is there; the portable form goes through the stack.
            var f = Vector256.LoadUnsafe(ref source);
            return Avx512F.IsSupported ? Avx512F.ConvertToVector512Double(f) : Vector512.Create(Vector256.WidenLower(f), Vector256.WidenUpper(f));
        }

        public static double Element(Vector512<double> v, int lane) => v.GetElement(lane);

        public static Vector512<double> Add(Vector512<double> a, Vector512<double> b) => a + b;

        public static Vector512<double> Subtract(Vector512<double> a, Vector512<double> b) => a - b;

        public static Vector512<double> Multiply(Vector512<double> a, Vector512<double> b) => a * b;

        public static Vector512<double> Divide(Vector512<double> a, Vector512<double> b) => a / b;

        public static Vector512<double> FusedMultiplyAdd(Vector512<double> a, Vector512<double> b, Vector512<double> c) => Vector512.FusedMultiplyAdd(a, b, c);

        public static Vector512<double> Sqrt(Vector512<double> a) => Vector512.Sqrt(a);

        public static Vector512<double> Max(Vector512<double> a, Vector512<double> b) => Vector512.Max(a, b);

        public static Vector512<double> Min(Vector512<double> a, Vector512<double> b) => Vector512.Min(a, b);

        public static Vector512<double> Equal(Vector512<double> a, Vector512<double> b) => Vector512.Equals(a, b);

        public static Vector512<double> LessThan(Vector512<double> a, Vector512<double> b) => Vector512.LessThan(a, b);

        public static Vector512<double> And(Vector512<double> a, Vector512<double> b) => a & b;

        public static Vector512<double> Or(Vector512<double> a, Vector512<double> b) => a | b;

        public static Vector512<double> AndNot(Vector512<double> a, Vector512<double> b) => Vector512.AndNot(a, b);

        public static Vector512<double> Not(Vector512<double> a) => ~a;

        public static Vector512<double> Select(Vector512<double> mask, Vector512<double> a, Vector512<double> b) => Vector512.ConditionalSelect(mask, a, b);

        public static uint Bits(Vector512<double> mask) => (uint)mask.ExtractMostSignificantBits();
    }

    private readonly struct Lanes256 : ILanes<Vector256<double>>
    {
        public static int Count => Vector256<double>.Count;

        public static Vector256<double> Zero => Vector256<double>.Zero;

        public static Vector256<double> AllBitsSet => Vector256<double>.AllBitsSet;

        public static Vector256<double> Indices => Vector256<double>.Indices;

        public static Vector256<double> Broadcast(double value) => Vector256.Create(value);

        public static Vector256<double> Widen(ref float source) => Vector256.WidenLower(Vector128.LoadUnsafe(ref source).ToVector256Unsafe());

        public static double Element(Vector256<double> v, int lane) => v.GetElement(lane);

        public static Vector256<double> Add(Vector256<double> a, Vector256<double> b) => a + b;

        public static Vector256<double> Subtract(Vector256<double> a, Vector256<double> b) => a - b;

        public static Vector256<double> Multiply(Vector256<double> a, Vector256<double> b) => a * b;

        public static Vector256<double> Divide(Vector256<double> a, Vector256<double> b) => a / b;

        public static Vector256<double> FusedMultiplyAdd(Vector256<double> a, Vector256<double> b, Vector256<double> c) => Vector256.FusedMultiplyAdd(a, b, c);

        public static Vector256<double> Sqrt(Vector256<double> a) => Vector256.Sqrt(a);

        public static Vector256<double> Max(Vector256<double> a, Vector256<double> b) => Vector256.Max(a, b);

        public static Vector256<double> Min(Vector256<double> a, Vector256<double> b) => Vector256.Min(a, b);

        public static Vector256<double> Equal(Vector256<double> a, Vector256<double> b) => Vector256.Equals(a, b);

        public static Vector256<double> LessThan(Vector256<double> a, Vector256<double> b) => Vector256.LessThan(a, b);

        public static Vector256<double> And(Vector256<double> a, Vector256<double> b) => a & b;

        public static Vector256<double> Or(Vector256<double> a, Vector256<double> b) => a | b;

        public static Vector256<double> AndNot(Vector256<double> a, Vector256<double> b) => Vector256.AndNot(a, b);

        public static Vector256<double> Not(Vector256<double> a) => ~a;

        public static Vector256<double> Select(Vector256<double> mask, Vector256<double> a, Vector256<double> b) => Vector256.ConditionalSelect(mask, a, b);

        public static uint Bits(Vector256<double> mask) => mask.ExtractMostSignificantBits();
    }

    private readonly struct Lanes128 : ILanes<Vector128<double>>
    {
        public static int Count => Vector128<double>.Count;

        public static Vector128<double> Zero => Vector128<double>.Zero;

        public static Vector128<double> AllBitsSet => Vector128<double>.AllBitsSet;

        public static Vector128<double> Indices => Vector128<double>.Indices;

        public static Vector128<double> Broadcast(double value) => Vector128.Create(value);

        public static Vector128<double> Widen(ref float source) => Vector128.WidenLower(Vector64.LoadUnsafe(ref source).ToVector128Unsafe());

        public static double Element(Vector128<double> v, int lane) => v.GetElement(lane);

        public static Vector128<double> Add(Vector128<double> a, Vector128<double> b) => a + b;

        public static Vector128<double> Subtract(Vector128<double> a, Vector128<double> b) => a - b;

        public static Vector128<double> Multiply(Vector128<double> a, Vector128<double> b) => a * b;

        public static Vector128<double> Divide(Vector128<double> a, Vector128<double> b) => a / b;

        public static Vector128<double> FusedMultiplyAdd(Vector128<double> a, Vector128<double> b, Vector128<double> c) => Vector128.FusedMultiplyAdd(a, b, c);

        public static Vector128<double> Sqrt(Vector128<double> a) => Vector128.Sqrt(a);

        public static Vector128<double> Max(Vector128<double> a, Vector128<double> b) => Vector128.Max(a, b);

        public static Vector128<double> Min(Vector128<double> a, Vector128<double> b) => Vector128.Min(a, b);

        public static Vector128<double> Equal(Vector128<double> a, Vector128<double> b) => Vector128.Equals(a, b);

        public static Vector128<double> LessThan(Vector128<double> a, Vector128<double> b) => Vector128.LessThan(a, b);

        public static Vector128<double> And(Vector128<double> a, Vector128<double> b) => a & b;

        public static Vector128<double> Or(Vector128<double> a, Vector128<double> b) => a | b;

        public static Vector128<double> AndNot(Vector128<double> a, Vector128<double> b) => Vector128.AndNot(a, b);

        public static Vector128<double> Not(Vector128<double> a) => ~a;

        public static Vector128<double> Select(Vector128<double> mask, Vector128<double> a, Vector128<double> b) => Vector128.ConditionalSelect(mask, a, b);

        public static uint Bits(Vector128<double> mask) => mask.ExtractMostSignificantBits();
    }
}
