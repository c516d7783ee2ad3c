using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace S2CloudMask.Engine.Classification;

/// <summary>
/// A pinned float buffer per thread whose returned start sits on a 64-byte boundary, for the
/// classifier's chunk planes: the kernels read and write them in 64-byte vectors, and a
/// vector across two cache lines costs two accesses. Pinned (on the pinned object heap), so
/// the alignment holds for the buffer's life; grown when a larger one is asked for.
/// </summary>
internal static class AlignedFloats
{
    /// <summary>Floats in a cache line.</summary>
    private const int Line = 64 / sizeof(float);

    [ThreadStatic]
    private static float[]? t_buffer;

    /// <summary>
    /// This thread's buffer and the index in it of the first float on a cache line, with at
    /// least <paramref name="floats"/> floats from there. Valid until the thread asks again
    /// (callers must not hold two uses at once on one thread).
    /// </summary>
    public static unsafe (float[] Buffer, int Start) ForThisThread(int floats)
    {
        var buffer = t_buffer;
        if (buffer is null || buffer.Length < floats + Line)
        {
            buffer = GC.AllocateUninitializedArray<float>(floats + Line, pinned: true);
            t_buffer = buffer;
        }

        var address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (buffer, (int)((64 - (address & 63)) & 63) / sizeof(float));
    }

    /// <summary>
    /// The distance between a chunk's planes: <paramref name="pixels"/> rounded up to whole
    /// lines, and one line more. Chunks are powers of two, so planes a chunk apart would all
    /// start in the same set of the L1 cache (8 ways), and a pass writing ten of them at once
    /// (the decoder, all bands) would evict its own lines: decoding ten float32 bands of 2,048
    /// pixels took 8.0 us with planes 2,048 floats apart against 5.4-6.0 us one line further
    /// (BenchmarkDotNet, AMD EPYC Zen 3); with the six bands of <c>fast</c> both were the same.
    /// </summary>
    public static int PlaneStride(int pixels) => Round(pixels) + Line;

    /// <summary>n rounded up to whole cache lines of floats, so that parts laid one after another stay aligned.</summary>
    public static int Round(int n) => (n + Line - 1) / Line * Line;
}
