using System.Runtime.Intrinsics;

namespace S2CloudMask.Engine;

/// <summary>Small span helpers shared by the kernels.</summary>
internal static class FloatSpans
{
    /// <summary>True when any element is NaN (vectorised: NaN is the only value not equal to itself).</summary>
    public static bool ContainsNaN(ReadOnlySpan<float> values)
    {
        var i = 0;
        for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var v = Vector256.Create(values.Slice(i, Vector256<float>.Count));
            if (!Vector256.EqualsAll(v, v))
            {
                return true;
            }
        }

        for (; i < values.Length; i++)
        {
            if (float.IsNaN(values[i]))
            {
                return true;
            }
        }

        return false;
    }
}
