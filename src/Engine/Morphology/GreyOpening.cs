using System.Numerics.Tensors;

namespace S2CloudMask.Engine.Morphology;

/// <summary>
/// 3x3 grey opening (erosion, then dilation) of a probability image, as
/// <c>skimage.morphology.opening(p, square(3))</c>: SciPy's separable min/max filters with
/// the 'reflect' border, which for a 3-wide window repeats the edge pixel. Works on a band
/// of rows with a 2-row halo, so an image can be processed in independent row blocks.
/// NaN (nodata) pixels are ignored by the min and max (IEEE minNumber/maxNumber) instead of
/// spreading unpredictably as they do through SciPy's filters; the caller puts NaN back on
/// nodata pixels afterwards, as the reference does.
/// </summary>
public static class GreyOpening
{
    /// <summary>Halo rows a block needs above and below its output rows.</summary>
    public const int Halo = 2;

    /// <summary>Scratch floats <see cref="Open3x3"/> needs: eight rows, however many rows the image or block has.</summary>
    public static int ScratchLength(int width) => 8 * width;

    /// <summary>
    /// Opens output rows [<paramref name="outStart"/>, <paramref name="outEnd"/>) of an image
    /// <paramref name="height"/> rows tall. <paramref name="input"/> holds image rows
    /// [<paramref name="inStart"/>, inStart + input.Length / width), which must cover the
    /// output rows plus <see cref="Halo"/> rows each side (clipped to the image).
    /// <para>
    /// One pass down the rows: each input row's horizontal minimum goes into a ring of three
    /// rows, each eroded row (the vertical minimum of three of those) has its horizontal
    /// maximum put into a second ring, and each output row is the vertical maximum of three
    /// of those, so the working set is eight rows, which stay in the L1 cache.
    /// </para>
    /// </summary>
    public static void Open3x3(ReadOnlySpan<float> input, int width, int height, int inStart, int outStart, int outEnd, Span<float> dest, Span<float> scratch)
    {
        var inRows = input.Length / width;
        var inEnd = inStart + inRows;
        if (inStart > Math.Max(0, outStart - Halo) || inEnd < Math.Min(height, outEnd + Halo) || outStart < 0 || outEnd > height)
        {
            throw new ArgumentException("input rows do not cover the output rows and their halo");
        }

        if (dest.Length < (outEnd - outStart) * width || scratch.Length < ScratchLength(width))
        {
            throw new ArgumentException("destination or scratch too small");
        }

        var minima = scratch[..(3 * width)];
        var maxima = scratch.Slice(3 * width, 3 * width);
        var eroded = scratch.Slice(6 * width, width);
        var pair = scratch.Slice(7 * width, width);
        var nextMin = Math.Max(0, outStart - Halo);
        var nextMax = Math.Max(0, outStart - 1);

        for (var r = outStart; r < outEnd; r++)
        {
            // Eroded rows r - 1 .. r + 1 (the edge repeated), each needing minima one row further.
            var last = Math.Min(r + 1, height - 1);
            for (; nextMax <= last; nextMax++)
            {
                var e = nextMax;
                for (; nextMin <= Math.Min(e + 1, height - 1); nextMin++)
                {
                    Horizontal(input.Slice((nextMin - inStart) * width, width), Ring(minima, width, nextMin), pair, min: true);
                }

                Vertical(Ring(minima, width, Math.Max(e - 1, 0)), Ring(minima, width, e), Ring(minima, width, Math.Min(e + 1, height - 1)), eroded, min: true);
                Horizontal(eroded, Ring(maxima, width, e), pair, min: false);
            }

            Vertical(Ring(maxima, width, Math.Max(r - 1, 0)), Ring(maxima, width, r), Ring(maxima, width, last), dest.Slice((r - outStart) * width, width), min: false);
        }
    }

    private static Span<float> Ring(Span<float> ring, int width, int row) => ring.Slice(row % 3 * width, width);

    /// <summary>dest[x] = min (or max) of src[x-1], src[x], src[x+1], the edge repeated.</summary>
    private static void Horizontal(ReadOnlySpan<float> src, Span<float> dest, Span<float> pair, bool min)
    {
        var width = src.Length;
        if (width == 1)
        {
            dest[0] = src[0];
            return;
        }

        // pair[i] = op(src[i], src[i+1]); then dest[x] = op(pair[x-1], pair[x]).
        var p = pair[..(width - 1)];
        Op(src[..^1], src[1..], p, min);
        dest[0] = p[0];
        dest[width - 1] = p[width - 2];
        if (width > 2)
        {
            Op(p[..^1], p[1..], dest[1..^1], min);
        }
    }

    /// <summary>dest = min (or max) of three rows, element by element.</summary>
    private static void Vertical(ReadOnlySpan<float> up, ReadOnlySpan<float> mid, ReadOnlySpan<float> down, Span<float> dest, bool min)
    {
        Op(up, mid, dest, min);
        Op(dest, down, dest, min);
    }

    // IEEE minNumber / maxNumber: NaN is ignored, -0 < +0.
    private static void Op(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dest, bool min)
    {
        if (min)
        {
            TensorPrimitives.MinNumber(a, b, dest);
        }
        else
        {
            TensorPrimitives.MaxNumber(a, b, dest);
        }
    }
}
