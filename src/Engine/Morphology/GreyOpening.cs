using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace S2CloudMask.Engine.Morphology;

/// <summary>
/// 3x3 grey opening (erosion, then dilation) of a probability image, as
/// <c>skimage.morphology.opening(p, square(3))</c>: SciPy's separable min/max filters with
/// the 'reflect' border, which for a 3-wide window repeats the edge pixel. Works on a band
/// of rows with a 2-row halo, so an image can be processed in independent row blocks.
/// NaN (nodata) pixels are ignored by the min and max (IEEE minNumber/maxNumber) instead of
/// spreading unpredictably as they do through SciPy's filters; the caller puts NaN back on
/// nodata pixels afterwards, as the reference does.
/// <para>
/// Mask codes (0 clear, 1 positive, <see cref="CodeNodata"/> where the probability is NaN)
/// open the same way, 32 to a 256-bit vector instead of 8 (<see cref="Codes"/>): the
/// opening commutes with the threshold (min and max commute with any non-decreasing map,
/// NaN ignored by both), so opening the codes gives the codes of the opened probability.
/// The erosion takes the unsigned minimum, in which 255 is above both codes and so
/// ignored; the dilation the maximum of code + 1 (wrapping: 255 becomes 0, below both),
/// less 1.
/// </para>
/// <para>
/// Measured and not kept, on an AMD EPYC of the Zen 3 generation (AVX2): probabilities
/// opened as 32-bit keys ordered as the floats (the sign bit flipped where clear, every bit
/// where set, NaN all ones), so that minNumber and maxNumber became one unsigned min or max
/// each (plus the +1/-1 that ignores NaN in the dilation), where the vector minNumber takes
/// nine instructions with AVX2. BenchmarkDotNet (410 x 565, conversions included) took
/// 212.9 against 275.4 us, but in the classifier the opening stage was 1.03-1.24 against
/// 1.14-1.24 ns per pixel (<c>stages fast</c>, one thread, three alternating rounds) and
/// <c>fast</c>'s probabilities on two threads ran 104.4-132.8 against 114.6-137.7 Mpx/s
/// (four alternating rounds): the stage is many short row passes and its output's memory
/// traffic, not the compares. Writing the opened rows with non-temporal stores from a
/// scratch row was slower still (1.42-1.51 ns per pixel).
/// </para>
/// </summary>
public static class GreyOpening
{
    /// <summary>Halo rows a block needs above and below its output rows.</summary>
    public const int Halo = 2;

    /// <summary>Scratch elements <see cref="Open3x3"/> needs: seven rows, however many rows the image or block has.</summary>
    public static int ScratchLength(int width) => 7 * width;

    /// <summary>The mask code of a NaN probability (nodata), which the opening of codes ignores.</summary>
    public const byte CodeNodata = 255;

    /// <summary>
    /// Opens output rows [<paramref name="outStart"/>, <paramref name="outEnd"/>) of an image
    /// <paramref name="height"/> rows tall. <paramref name="input"/> holds image rows
    /// [<paramref name="inStart"/>, inStart + input.Length / width), which must cover the
    /// output rows plus <see cref="Halo"/> rows each side (clipped to the image).
    /// <para>
    /// One pass down the rows: each input row's horizontal minimum goes into a ring of three
    /// rows, each eroded row (the vertical minimum of three of those) has its horizontal
    /// maximum put into a second ring, and each output row is the vertical maximum of three
    /// of those, so the working set is seven rows, which stay in the L1 cache. Each step is
    /// one vector pass over the row (<see cref="Three{T}"/>):
    /// with two whole-row TensorPrimitives passes per step before, the 410 x 565 benchmark
    /// took 111-136 us against 78-95 now (BenchmarkDotNet, four alternating runs each).
    /// </para>
    /// </summary>
    public static void Open3x3(ReadOnlySpan<float> input, int width, int height, int inStart, int outStart, int outEnd, Span<float> dest, Span<float> scratch)
    {
        var inEnd = inStart + (input.Length / width);
        if (inEnd < Math.Min(height, outEnd + Halo))
        {
            throw new ArgumentException("input rows do not cover the output rows and their halo");
        }

        var pass = Probabilities(width, height, inStart, outStart, outEnd, dest, scratch);
        pass.Advance(input, inEnd);
    }

    /// <summary>A pass opening probabilities (<see cref="Pass{T, TErode, TDilate}"/>).</summary>
    public static Pass<float, Min, Max> Probabilities(int width, int height, int inStart, int outStart, int outEnd, Span<float> dest, Span<float> scratch) =>
        new(width, height, inStart, outStart, outEnd, dest, scratch);

    /// <summary>A pass opening mask codes (<see cref="Pass{T, TErode, TDilate}"/>): 0, 1 and <see cref="CodeNodata"/>.</summary>
    public static Pass<byte, Min, MaxOfCodes> Codes(int width, int height, int inStart, int outStart, int outEnd, Span<byte> dest, Span<byte> scratch) =>
        new(width, height, inStart, outStart, outEnd, dest, scratch);

    /// <summary>
    /// <see cref="Open3x3"/> as a pass that can stop and go on: each <see cref="Advance"/>
    /// opens the output rows whose input rows (two below, clipped to the image) have come,
    /// so a caller that produces its input a few rows at a time opens them while they are
    /// still in the cache, and the pass keeps its rings between calls. In the classifier
    /// (<c>stages fast --mpx 4</c>, one thread, three alternating runs) the opening took
    /// 0.62-0.64 ns per pixel with this and the one-pass steps, against 0.72-1.28 before both
    /// (two TensorPrimitives passes a step, the block's rows opened after its last chunk).
    /// </summary>
    public ref struct Pass<T, TErode, TDilate>
        where T : unmanaged
        where TErode : struct, IExtreme<T>
        where TDilate : struct, IExtreme<T>
    {
        private readonly int _width;
        private readonly int _height;
        private readonly int _inStart;
        private readonly int _outStart;
        private readonly int _outEnd;
        private readonly Span<T> _dest;
        private readonly Span<T> _minima;
        private readonly Span<T> _maxima;
        private readonly Span<T> _eroded;
        private int _nextMin;
        private int _nextMax;

        /// <summary>
        /// A pass writing output rows [<paramref name="outStart"/>, <paramref name="outEnd"/>)
        /// to <paramref name="dest"/> (row outStart first) from input rows numbered from
        /// <paramref name="inStart"/>, which must be at most <see cref="Halo"/> rows above
        /// outStart (or 0).
        /// </summary>
        public Pass(int width, int height, int inStart, int outStart, int outEnd, Span<T> dest, Span<T> scratch)
        {
            if (width <= 0 || inStart > Math.Max(0, outStart - Halo) || inStart < 0 || outStart < 0 || outEnd > height || outStart > outEnd)
            {
                throw new ArgumentException("input rows do not cover the output rows and their halo");
            }

            if (dest.Length < (outEnd - outStart) * width || scratch.Length < ScratchLength(width))
            {
                throw new ArgumentException("destination or scratch too small");
            }

            (_width, _height, _inStart, _outStart, _outEnd) = (width, height, inStart, outStart, outEnd);
            _dest = dest;
            _minima = scratch[..(3 * width)];
            _maxima = scratch.Slice(3 * width, 3 * width);
            _eroded = scratch.Slice(6 * width, width);
            _nextMin = Math.Max(0, outStart - Halo);
            _nextMax = Math.Max(0, outStart - 1);
            NextRow = outStart;
        }

        /// <summary>The first output row not opened yet.</summary>
        public int NextRow { get; private set; }

        /// <summary>
        /// Opens the output rows from <see cref="NextRow"/> on that input rows up to
        /// <paramref name="inEnd"/> (exclusive) allow. <paramref name="input"/> holds the
        /// rows from the pass's first input row on; only rows before inEnd are read.
        /// </summary>
        public void Advance(ReadOnlySpan<T> input, int inEnd)
        {
            if (input.Length < (inEnd - _inStart) * _width)
            {
                throw new ArgumentException("input shorter than its rows");
            }

            var (width, height) = (_width, _height);
            for (; NextRow < _outEnd && Math.Min(NextRow + Halo, height - 1) < inEnd; NextRow++)
            {
                // Eroded rows r - 1 .. r + 1 (the edge repeated), each needing minima one row further.
                var r = NextRow;
                var last = Math.Min(r + 1, height - 1);
                for (; _nextMax <= last; _nextMax++)
                {
                    var e = _nextMax;
                    for (; _nextMin <= Math.Min(e + 1, height - 1); _nextMin++)
                    {
                        Horizontal<T, TErode>(input.Slice((_nextMin - _inStart) * width, width), Ring(_minima, width, _nextMin));
                    }

                    Three<T, TErode>(Ring(_minima, width, Math.Max(e - 1, 0)), Ring(_minima, width, e), Ring(_minima, width, Math.Min(e + 1, height - 1)), _eroded);
                    Horizontal<T, TDilate>(_eroded, Ring(_maxima, width, e));
                }

                Three<T, TDilate>(Ring(_maxima, width, Math.Max(r - 1, 0)), Ring(_maxima, width, r), Ring(_maxima, width, last), _dest.Slice((r - _outStart) * width, width));
            }
        }
    }

    private static Span<T> Ring<T>(Span<T> ring, int width, int row) => ring.Slice(row % 3 * width, width);

    /// <summary>
    /// dest[x] = min (or max) of src[x-1], src[x], src[x+1], the edge repeated: the rows at
    /// the three offsets in one pass (<see cref="Three{T}"/>). Two whole-row TensorPrimitives
    /// passes before, through a row of pairwise results; minNumber and maxNumber are
    /// associative, so the order does not change a bit.
    /// </summary>
    private static void Horizontal<T, TOp>(ReadOnlySpan<T> src, Span<T> dest)
        where T : unmanaged
        where TOp : struct, IExtreme<T>
    {
        var width = src.Length;
        if (width == 1)
        {
            dest[0] = src[0];
            return;
        }

        dest[0] = TOp.Apply(src[0], src[1]);
        dest[width - 1] = TOp.Apply(src[width - 2], src[width - 1]);
        if (width > 2)
        {
            Three<T, TOp>(src[..^2], src[1..^1], src[2..], dest[1..(width - 1)]);
        }
    }

    /// <summary>dest[i] = op(op(a[i], b[i]), c[i]) in one pass (three rows, or a row at three offsets): 512-bit vectors, then 256-bit ones, then the tail; dest must not overlap the inputs.</summary>
    private static void Three<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dest)
        where T : unmanaged
        where TOp : struct, IExtreme<T>
    {
        var n = dest.Length;
        if (a.Length < n || b.Length < n || c.Length < n)
        {
            throw new ArgumentException("rows shorter than the destination");
        }

        ref var ra = ref MemoryMarshal.GetReference(a);
        ref var rb = ref MemoryMarshal.GetReference(b);
        ref var rc = ref MemoryMarshal.GetReference(c);
        ref var rd = ref MemoryMarshal.GetReference(dest);
        var i = 0;
        for (; Vector512.IsHardwareAccelerated && i + Vector512<T>.Count <= n; i += Vector512<T>.Count)
        {
            TOp.Apply(TOp.Apply(Vector512.LoadUnsafe(ref ra, (nuint)i), Vector512.LoadUnsafe(ref rb, (nuint)i)), Vector512.LoadUnsafe(ref rc, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
        }

        for (; Vector256.IsHardwareAccelerated && i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
        {
            TOp.Apply(TOp.Apply(Vector256.LoadUnsafe(ref ra, (nuint)i), Vector256.LoadUnsafe(ref rb, (nuint)i)), Vector256.LoadUnsafe(ref rc, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
        }

        // The tail as one more vector ending at the last element (dest is none of the inputs,
        // so elements computed twice come out the same): a row of 565 codes has 19 past its
        // last whole 32-byte vector, which one by one took as long as the vectors.
        if (Vector256.IsHardwareAccelerated && i < n && n >= Vector256<T>.Count)
        {
            var last = (nuint)(n - Vector256<T>.Count);
            TOp.Apply(TOp.Apply(Vector256.LoadUnsafe(ref ra, last), Vector256.LoadUnsafe(ref rb, last)), Vector256.LoadUnsafe(ref rc, last)).StoreUnsafe(ref rd, last);
            return;
        }

        for (; i < n; i++)
        {
            dest[i] = TOp.Apply(TOp.Apply(a[i], b[i]), c[i]);
        }
    }

    /// <summary>An associative min or max for one value and for vectors of each width.</summary>
    public interface IExtreme<T>
        where T : unmanaged
    {
        static abstract T Apply(T a, T b);

        static abstract Vector256<T> Apply(Vector256<T> a, Vector256<T> b);

        static abstract Vector512<T> Apply(Vector512<T> a, Vector512<T> b);
    }

    /// <summary>IEEE minNumber of probabilities (NaN ignored, -0 below +0); the unsigned minimum of codes (255 ignored).</summary>
    public readonly struct Min : IExtreme<float>, IExtreme<byte>
    {
        public static float Apply(float a, float b) => float.MinNumber(a, b);

        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Vector256.MinNumber(a, b);

        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => Vector512.MinNumber(a, b);

        public static byte Apply(byte a, byte b) => Math.Min(a, b);

        public static Vector256<byte> Apply(Vector256<byte> a, Vector256<byte> b) => Vector256.Min(a, b);

        public static Vector512<byte> Apply(Vector512<byte> a, Vector512<byte> b) => Vector512.Min(a, b);
    }

    /// <summary>IEEE maxNumber of probabilities (NaN ignored, -0 below +0).</summary>
    public readonly struct Max : IExtreme<float>
    {
        public static float Apply(float a, float b) => float.MaxNumber(a, b);

        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Vector256.MaxNumber(a, b);

        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => Vector512.MaxNumber(a, b);
    }

    /// <summary>The maximum of codes with 255 ignored: max(a + 1, b + 1) - 1, wrapping, so 255 counts as -1.</summary>
    public readonly struct MaxOfCodes : IExtreme<byte>
    {
        public static byte Apply(byte a, byte b) => (byte)(Math.Max((byte)(a + 1), (byte)(b + 1)) - 1);

        public static Vector256<byte> Apply(Vector256<byte> a, Vector256<byte> b) =>
            Vector256.Max(a + Vector256<byte>.One, b + Vector256<byte>.One) - Vector256<byte>.One;

        public static Vector512<byte> Apply(Vector512<byte> a, Vector512<byte> b) =>
            Vector512.Max(a + Vector512<byte>.One, b + Vector512<byte>.One) - Vector512<byte>.One;
    }
}
