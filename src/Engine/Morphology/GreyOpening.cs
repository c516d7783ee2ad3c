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

    /// <summary>Scratch floats <see cref="Open3x3"/> needs for the given input rows.</summary>
    public static int ScratchLength(int width, int inputRows) => (2 * inputRows * width) + width;

    /// <summary>
    /// Opens output rows [<paramref name="outStart"/>, <paramref name="outEnd"/>) of an image
    /// <paramref name="height"/> rows tall. <paramref name="input"/> holds image rows
    /// [<paramref name="inStart"/>, inStart + input.Length / width), which must cover the
    /// output rows plus <see cref="Halo"/> rows each side (clipped to the image).
    /// </summary>
    public static void Open3x3(ReadOnlySpan<float> input, int width, int height, int inStart, int outStart, int outEnd, Span<float> dest, Span<float> scratch)
    {
        var inRows = input.Length / width;
        var inEnd = inStart + inRows;
        if (inStart > Math.Max(0, outStart - Halo) || inEnd < Math.Min(height, outEnd + Halo) || outStart < 0 || outEnd > height)
        {
            throw new ArgumentException("input rows do not cover the output rows and their halo");
        }

        if (dest.Length < (outEnd - outStart) * width || scratch.Length < ScratchLength(width, inRows))
        {
            throw new ArgumentException("destination or scratch too small");
        }

        var horizontal = scratch[..(inRows * width)];
        var eroded = scratch.Slice(inRows * width, inRows * width);
        var pair = scratch.Slice(2 * inRows * width, width);

        // Erosion: rows that the dilation of the output rows reads.
        int eStart = Math.Max(0, outStart - 1), eEnd = Math.Min(height, outEnd + 1);
        int hStart = Math.Max(0, eStart - 1), hEnd = Math.Min(height, eEnd + 1);
        for (var r = hStart; r < hEnd; r++)
        {
            Row(input, inStart, width, r, min: true, horizontal.Slice((r - inStart) * width, width), pair);
        }

        for (var r = eStart; r < eEnd; r++)
        {
            Column(horizontal, inStart, width, height, r, min: true, eroded.Slice((r - inStart) * width, width));
        }

        // Dilation of the eroded rows, written straight to the output.
        for (var r = eStart; r < eEnd; r++)
        {
            Row(eroded, inStart, width, r, min: false, horizontal.Slice((r - inStart) * width, width), pair);
        }

        for (var r = outStart; r < outEnd; r++)
        {
            Column(horizontal, inStart, width, height, r, min: false, dest.Slice((r - outStart) * width, width));
        }
    }

    /// <summary>dest[x] = min (or max) of src[x-1], src[x], src[x+1], the edge repeated.</summary>
    private static void Row(ReadOnlySpan<float> rows, int firstRow, int width, int r, bool min, Span<float> dest, Span<float> pair)
    {
        var src = rows.Slice((r - firstRow) * width, width);
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

    private static void Column(ReadOnlySpan<float> rows, int firstRow, int width, int height, int r, bool min, Span<float> dest)
    {
        var up = rows.Slice((Math.Max(r - 1, 0) - firstRow) * width, width);
        var mid = rows.Slice((r - firstRow) * width, width);
        var down = rows.Slice((Math.Min(r + 1, height - 1) - firstRow) * width, width);
        Op(up, mid, dest, min);
        Op(dest, down, dest, min);
    }

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
