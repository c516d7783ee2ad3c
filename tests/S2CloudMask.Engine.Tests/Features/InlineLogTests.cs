using System.Runtime.Intrinsics;
using S2CloudMask.Engine.Features;

namespace S2CloudMask.Engine.Tests.Features;

public sealed class InlineLogTests
{
    [Fact]
    public void EveryPositiveNormalFloatGetsTheLibrarysBits()
    {
        if (!InlineLog.IsSupported)
        {
            return;
        }

        // All 2^31 - 2^24 of them, 0x00800000 (2^-126) to 0x7F7FFFFF (float.MaxValue), eight
        // consecutive bit patterns a vector, in 2^16 slices of 0x7F00 patterns spread over
        // the cores.
        const uint first = 0x0080_0000u;
        const uint end = 0x7F80_0000u;
        const int slices = 1 << 16;
        const uint perSlice = (end - first) / slices;
        var mismatches = 0L;
        var firstMismatch = uint.MaxValue;
        var steps = Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
        Parallel.For(0, slices, s =>
        {
            var from = first + ((uint)s * perSlice);
            var to = s == slices - 1 ? end : from + perSlice;
            for (var bits = from; bits < to; bits += 8)
            {
                var x = (Vector256.Create(bits) + steps).AsSingle();
                var inline = InlineLog.Log(x).AsUInt32();
                var library = Vector256.Log(x).AsUInt32();
                if (inline != library)
                {
                    Interlocked.Increment(ref mismatches);
                    InterlockedMin(ref firstMismatch, bits);
                }
            }
        });

        Assert.True(mismatches == 0, $"{mismatches} vectors differ from Vector256.Log, the first from bits {firstMismatch:X8} on");
    }

    [Fact]
    public void OtherValuesGetTheLibrarysBitsInAnyMixOfLanes()
    {
        if (!InlineLog.IsSupported)
        {
            return;
        }

        float[] odd =
        [
            0f, -0f, float.Epsilon, 1e-40f, BitConverter.UInt32BitsToSingle(0x007F_FFFF), -1f, -1e-30f,
            float.NegativeInfinity, float.PositiveInfinity, float.NaN, -float.NaN,
            BitConverter.UInt32BitsToSingle(0x7F80_0001), BitConverter.UInt32BitsToSingle(0xFFC0_0001),
        ];
        float[] normal = [float.MaxValue, 1f, 0.5f, 2f / 3, 4f / 3, 1e-30f, 0.0123f, BitConverter.UInt32BitsToSingle(0x0080_0000)];
        var rng = new Random(17);
        for (var round = 0; round < 2000; round++)
        {
            // Every vector holds at least one odd lane: the whole vector then takes the
            // library's path, which must give each lane, odd or normal, the library's bits.
            var lanes = new float[8];
            for (var k = 0; k < 8; k++)
            {
                lanes[k] = rng.Next(3) == 0 ? odd[rng.Next(odd.Length)] : normal[rng.Next(normal.Length)];
            }

            lanes[rng.Next(8)] = odd[round % odd.Length];
            var x = Vector256.Create(lanes);
            Assert.Equal(Vector256.Log(x).AsUInt32(), InlineLog.Log(x).AsUInt32());
        }
    }

    private static void InterlockedMin(ref uint target, uint value)
    {
        var seen = Volatile.Read(ref target);
        while (value < seen)
        {
            var previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
