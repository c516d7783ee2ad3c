using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Morphology;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Engine.Classification;

/// <summary>How classification spreads over cores and memory.</summary>
public sealed record ClassifyOptions
{
    public static ClassifyOptions Default { get; } = new();

    /// <summary>Threads one classification may use; -1 for all cores.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>
    /// Pixels decoded and evaluated together: their planes (about 0.35 MB for the published
    /// <c>fast</c>) stay in the L2 cache. 4096 rather than 2048: a single tree's express lane
    /// pays a fixed cost per call, and on the EPYC, alternating throughput runs (two threads,
    /// 12 each) gave <c>fast</c> 216-237 Mpx/s against 195-232 (medians 226, 211),
    /// <c>fast-shadow</c> 164-184 against 147-181; <c>spectral</c> the same within the noise.
    /// Prefetching the next chunk's records into L2 while this one is computed, spread over
    /// the feature passes and the hot tree's loop, took <c>fast</c>'s decode from 2.5 to
    /// 1.6-2.3 ns per pixel but added as much to the features and trees (one thread), and
    /// two-thread throughput stayed the same (medians 230.3 against 228.9 Mpx/s): a core pays
    /// for reading its records whichever stage asks for them. The same on an AMD EPYC of the
    /// Zen 3 generation, the prefetches issued from the fused feature kernel's loop (five lines
    /// per eight pixels, L2 hint), <c>fast</c>'s mask path at 2 Mpx, two alternating rounds:
    /// decode 4.85 and 5.81 ns per pixel against 3.44 and 3.42 with them, features 2.95 and
    /// 4.31 against 6.53 and 6.46, two threads 128.0 and 131.6 Mpx/s against 130.4 and 125.5;
    /// the T0 and non-temporal hints no better. Decoding and evaluating the
    /// features 512 pixels at a time (their planes in the 48 KB L1 cache) and the trees over the
    /// whole 4096 was no faster either: <c>fast</c> at 4 Mpx, best of four runs each, three
    /// alternating rounds, one thread 7.81, 9.83, 7.72 ns per pixel against 7.11, 9.13, 9.22,
    /// two threads 5.20, 5.65, 5.31 against 4.39, 5.54, 4.49. On an AMD EPYC of the Zen 3
    /// generation (32 KB L1, 512 KB L2) 4096 held too: <c>fast</c> on two threads at 2 Mpx,
    /// three alternating rounds, 76.9, 81.4, 78.1 Mpx/s against 72.7, 77.9, 67.7 with 2048 and
    /// 69.5, 70.0, 64.0 with 1024; 8192 the same within the noise. With the planes a line
    /// apart (<see cref="AlignedFloats.PlaneStride"/>), the features in sub-blocks of 512 or
    /// 256 pixels were no faster there either (features stage 5.5-7.1 and 7.9-8.5 against
    /// 4.3-6.4 ns per pixel). Nor, on that machine, were the features computed inside the
    /// decoder's loop, eight pixels at a time from the planes just written (a hand-written
    /// kernel for the published <c>fast</c>, as a test of the idea), <c>fast</c>'s mask path
    /// at 2 Mpx in alternating rounds: one thread 67.0-81.8 against 60.4-70.3 Mpx/s (medians
    /// 68.5 and 63.3, five rounds), but two threads 106.6-126.6 against 108.4-121.3 (medians
    /// 119.9 and 117.4, six rounds); the general fused kernel called from the decoder every 8,
    /// 32 or 128 pixels lost its calls' cost (one thread 43.0-65.1 Mpx/s).
    /// </summary>
    public int ChunkPixels { get; init; } = 4096;

    /// <summary>Output rows per parallel block; 0 picks from the image size.</summary>
    public int BlockRows { get; init; }

    public CancellationToken CancellationToken { get; init; }
}

/// <summary>
/// Runs a <see cref="CloudModel"/> over an image: decode to reflectance planes, evaluate the
/// features, the trees and the opening, block by block of rows in parallel, with every
/// buffer rented from the array pool and returned. Probability is NaN where the pixel is
/// nodata (or, before the opening, where a feature is undefined, as in the reference).
/// </summary>
public static class CloudClassifier
{
    /// <summary>Probability per pixel, row-major (Height x Width).</summary>
    public static float[] Probability(CloudModel model, BandImage obs, in Scaling scaling, BandImage? reference = null, ClassifyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(obs);
        var dest = new float[obs.PixelCount];
        Probability(model, obs, scaling, reference, Scaling.Identity, dest, options);
        return dest;
    }

    public static void Probability(CloudModel model, BandImage obs, Scaling scaling, BandImage? reference, Scaling referenceScaling, float[] dest, ClassifyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dest);
        Run(model, obs, scaling, reference, referenceScaling, new Output(dest, null, 0), options);
    }

    /// <summary>
    /// Mask codes per pixel, row-major (Height x Width): 1 where the probability is above
    /// <paramref name="threshold"/>, 0 at or below, <see cref="Nodata"/> where it is NaN;
    /// the same codes as <see cref="Mask(ReadOnlySpan{float}, float, Span{byte})"/> of
    /// <see cref="Probability(CloudModel, BandImage, Scaling, BandImage?, Scaling, float[], ClassifyOptions?)"/>.
    /// A single tree is cut down to what the mask needs first (<see cref="CloudModel.ForMask"/>),
    /// and no image of probabilities is made: each block's are turned into codes as they come.
    /// </summary>
    public static void Mask(CloudModel model, BandImage obs, Scaling scaling, BandImage? reference, Scaling referenceScaling, float threshold, byte[] dest, ClassifyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dest);
        var cut = model.ForMask(threshold);
        Run(cut ?? model, obs, scaling, reference, referenceScaling, new Output(null, dest, cut?.Threshold ?? threshold), options);
    }

    /// <summary>Where a classification goes: probabilities, or mask codes at a threshold.</summary>
    private readonly record struct Output(float[]? Probability, byte[]? Codes, float Threshold)
    {
        public long Length => Probability?.LongLength ?? Codes!.LongLength;
    }

    private static void Run(CloudModel model, BandImage obs, Scaling scaling, BandImage? reference, Scaling referenceScaling, Output dest, ClassifyOptions? options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(obs);
        options ??= ClassifyOptions.Default;
        obs.RequireBands(model.Bands.Count, "the image");
        if (model.NeedsReference)
        {
            if (reference is null)
            {
                throw new InvalidInputException("missing-reference", $"model '{model.Name}' is spectral-temporal and needs a reference image (a geomedian of the same place)");
            }

            reference.RequireBands(model.Bands.Count, "the reference image");
            if (reference.Height != obs.Height || reference.Width != obs.Width)
            {
                throw new InvalidInputException(
                    "reference-mismatch",
                    $"the reference image is {reference.Height} x {reference.Width} but the image is {obs.Height} x {obs.Width}");
            }
        }
        else
        {
            reference = null;
        }

        if (dest.Length < obs.PixelCount)
        {
            throw new ArgumentException("destination smaller than the image", nameof(dest));
        }

        if (obs.PixelCount == 0)
        {
            return;
        }

        var height = obs.Height;
        var width = obs.Width;
        var workers = options.MaxDegreeOfParallelism > 0 ? options.MaxDegreeOfParallelism : Environment.ProcessorCount;
        // Four blocks per worker. Smaller ones (32 or 128 rows against 919 on the benchmarks'
        // 4 Mpx image) did not raise fast's two-thread throughput, and its busy cores stayed at
        // 1.72-1.94 either way: the idle time is other work on the machine, not the last block.
        var blockRows = options.BlockRows > 0
            ? options.BlockRows
            : Math.Clamp((int)Math.Ceiling(height / (4.0 * workers)), 16, Math.Max(16, (1 << 20) / Math.Max(width, 1)));
        var blocks = (height + blockRows - 1) / blockRows;
        var job = new Job(model, obs, scaling, reference, referenceScaling, dest, Math.Max(256, options.ChunkPixels));
        Parallel.For(
            0,
            blocks,
            new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = options.CancellationToken },
            block => job.RunBlock(block * blockRows, Math.Min(height, (block + 1) * blockRows)));
    }

    /// <summary>
    /// Probability for every date of a (y, x, band, time) stack, as a (y, x, time) array in
    /// row-major order: the same values as classifying the dates one by one.
    /// </summary>
    public static float[] Probability(CloudModel model, BandStack stack, Scaling scaling, BandImage? reference = null, Scaling? referenceScaling = null, ClassifyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stack);
        var pixels = stack.Height * stack.Width;
        var dates = stack.Dates;
        var result = new float[(long)pixels * dates];
        var one = new float[pixels];
        for (var t = 0; t < dates; t++)
        {
            Probability(model, stack.Date(t), scaling, reference, referenceScaling ?? Scaling.Identity, one, options);
            for (var i = 0; i < pixels; i++)
            {
                result[((long)i * dates) + t] = one[i];
            }
        }

        return result;
    }

    /// <summary>Mask from probability: 1 above the threshold, 0 at or below, 255 where NaN (nodata).</summary>
    public static void Mask(ReadOnlySpan<float> probability, float threshold, Span<byte> dest)
    {
        if (dest.Length < probability.Length)
        {
            throw new ArgumentException("destination too small", nameof(dest));
        }

        // Thirty-two at a time, with AVX-512 too: making codes is 2 % of the mask path's stages
        // (0.24-0.30 of 11.7-15.0 ns per pixel for fast on the Zen 3, one thread), too little
        // for a second, 512-bit loop to matter.
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var t = Vector256.Create(threshold);
            for (; i <= probability.Length - 32; i += 32)
            {
                var low = Vector256.Narrow(Code(probability, i, t), Code(probability, i + 8, t));
                var high = Vector256.Narrow(Code(probability, i + 16, t), Code(probability, i + 24, t));
                Vector256.Narrow(low, high).CopyTo(dest.Slice(i));
            }
        }

        for (; i < probability.Length; i++)
        {
            var p = probability[i];
            dest[i] = float.IsNaN(p) ? Nodata : p > threshold ? (byte)1 : (byte)0;
        }
    }

    /// <summary>The mask codes of eight probabilities from <paramref name="at"/>, as 32-bit lanes.</summary>
    private static Vector256<uint> Code(ReadOnlySpan<float> probability, int at, Vector256<float> threshold)
    {
        var p = Vector256.Create(probability.Slice(at, 8));
        var nan = ~Vector256.Equals(p, p).AsUInt32();
        var above = Vector256.GreaterThan(p, threshold).AsUInt32();
        return (nan & Vector256.Create((uint)Nodata)) | (above & Vector256<uint>.One);
    }

    /// <summary>How many of the codes are valid (not nodata), cloud (1) and cloud shadow (2).</summary>
    public static CodeCounts Count(ReadOnlySpan<byte> codes)
    {
        long nodata = 0, cloud = 0, shadow = 0;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Thirty-two at a time, as the codes are made (Mask).
            for (; i <= codes.Length - 32; i += 32)
            {
                var v = Vector256.Create(codes.Slice(i, 32));
                nodata += BitOperations.PopCount(Vector256.Equals(v, Vector256.Create(Nodata)).ExtractMostSignificantBits());
                cloud += BitOperations.PopCount(Vector256.Equals(v, Vector256<byte>.One).ExtractMostSignificantBits());
                shadow += BitOperations.PopCount(Vector256.Equals(v, Vector256.Create((byte)2)).ExtractMostSignificantBits());
            }
        }

        for (; i < codes.Length; i++)
        {
            var c = codes[i];
            nodata += c == Nodata ? 1 : 0;
            cloud += c == 1 ? 1 : 0;
            shadow += c == 2 ? 1 : 0;
        }

        return new CodeCounts(codes.Length - nodata, cloud, shadow);
    }

    public const byte Nodata = 255;

    /// <summary>Set by benchmarks (with one thread) to time each stage; null otherwise.</summary>
    internal static StageClock? Clock { get; set; }

    private sealed class Job(CloudModel model, BandImage obs, Scaling scaling, BandImage? reference, Scaling referenceScaling, Output dest, int chunk)
    {
        public void RunBlock(int rowStart, int rowEnd)
        {
            var width = obs.Width;
            var opening = model.Opening > 0;
            var inStart = opening ? Math.Max(0, rowStart - GreyOpening.Halo) : rowStart;
            var inEnd = opening ? Math.Min(obs.Height, rowEnd + GreyOpening.Halo) : rowEnd;
            var inPixels = (inEnd - inStart) * width;
            var pool = ArrayPool<float>.Shared;
            var bands = model.Bands.Count;
            var nf = model.Features.FeatureCount;

            // The chunk's planes start on cache lines (64-byte vectors across two lines cost
            // two accesses), from this thread's pinned buffer, one line more than a chunk
            // apart (see AlignedFloats.PlaneStride).
            var stride = AlignedFloats.PlaneStride(chunk);
            var (bandFloats, refFloats, featureFloats, scratchFloats) = (bands * stride, reference is null ? 0 : bands * stride, nf * stride, Math.Max(1, model.Features.ScratchLength(stride)));
            var (buffer, at) = AlignedFloats.ForThisThread(
                AlignedFloats.Round(bandFloats) + AlignedFloats.Round(refFloats) + AlignedFloats.Round(featureFloats) + AlignedFloats.Round(scratchFloats));
            var obsPlanes = Take(bandFloats);
            var refPlanes = Take(refFloats);
            var featurePlanes = Take(featureFloats);
            var scratch = Take(scratchFloats);

            // The next n floats of the buffer, the part after them starting on a cache line again.
            Span<float> Take(int n)
            {
                var part = buffer.AsSpan(at, n);
                at += AlignedFloats.Round(n);
                return part;
            }

            // Probabilities: straight to the output without an opening; with one, into the
            // block's rows, which are opened as soon as the chunks have classified the rows each
            // needs (two below), while they are still in the cache. Mask codes: made from each
            // chunk's probabilities as they come, so a mask needs no image of probabilities,
            // and opened as codes (GreyOpening.Codes).
            var codes = dest.Codes;
            var blockPixels = (rowEnd - rowStart) * width;
            float[]? block = opening && codes is null ? pool.Rent(inPixels) : null;
            byte[]? codeBlock = opening && codes is not null ? ArrayPool<byte>.Shared.Rent(inPixels) : null;
            float[]? chunkP = codes is null ? null : pool.Rent(chunk);
            float[]? openScratch = block is null ? null : pool.Rent(GreyOpening.ScratchLength(width));
            byte[]? codeScratch = codeBlock is null ? null : ArrayPool<byte>.Shared.Rent(GreyOpening.ScratchLength(width));
            byte[]? nodata = opening ? ArrayPool<byte>.Shared.Rent(inPixels) : null;
            var undefined = ArrayPool<byte>.Shared.Rent(chunk);
            try
            {
                var outP = codes is null ? dest.Probability.AsSpan(rowStart * width, blockPixels) : default;
                var outCodes = codes is null ? default : codes.AsSpan(rowStart * width, blockPixels);
                var pass = block is null ? default : GreyOpening.Probabilities(width, obs.Height, inStart, rowStart, rowEnd, outP, openScratch);
                var codePass = codeBlock is null ? default : GreyOpening.Codes(width, obs.Height, inStart, rowStart, rowEnd, outCodes, codeScratch);
                var clock = Clock;
                clock?.Start();
                for (var done = 0; done < inPixels; done += chunk)
                {
                    var count = Math.Min(chunk, inPixels - done);
                    var first = ((long)inStart * width) + done;
                    // Only the bands the features read (and band 0, which tells nodata below).
                    PixelDecoder.Decode(obs, scaling, first, count, obsPlanes, stride, propagateNoData: true, model.Features.ObsBandMask | 1);
                    if (nodata is not null)
                    {
                        // Band 0 alone tells: the decoder makes every band NaN when one is nodata.
                        FloatSpans.MarkNaN(obsPlanes[..count], nodata.AsSpan(done, count));
                    }

                    clock?.Lap(ClassifyStage.Decode);
                    if (reference is not null)
                    {
                        PixelDecoder.Decode(reference, referenceScaling, first, count, refPlanes, stride, propagateNoData: true, model.Features.RefBandMask | 1);
                        clock?.Lap(ClassifyStage.DecodeReference);
                    }

                    var someUndefined = model.Features.EvaluateAndCheck(obsPlanes, refPlanes, stride, count, featurePlanes, scratch);
                    clock?.Lap(ClassifyStage.Features);
                    // As in the reference, a pixel with an undefined feature (nodata, log of 0)
                    // has no probability. Its features get a stand-in so the whole chunk keeps
                    // the fast tree path; its answer is then replaced by NaN.
                    var anyUndefined = false;
                    for (var f = 0; someUndefined && f < nf; f++)
                    {
                        var plane = featurePlanes.Slice(f * stride, count);
                        if (!FloatSpans.ContainsNaN(plane))
                        {
                            continue;
                        }

                        if (!anyUndefined)
                        {
                            undefined.AsSpan(0, count).Clear();
                            anyUndefined = true;
                        }

                        for (var i = 0; i < count; i++)
                        {
                            if (float.IsNaN(plane[i]))
                            {
                                plane[i] = 0;
                                undefined[i] = 1;
                            }
                        }
                    }

                    clock?.Lap(ClassifyStage.NaNScan);
                    var p = block is not null ? block.AsSpan(done, count) : chunkP is not null ? chunkP.AsSpan(0, count) : outP.Slice(done, count);
                    model.Ensemble.PredictPlanes(featurePlanes, stride, count, p, nanFree: true);
                    clock?.Lap(ClassifyStage.Trees);
                    if (anyUndefined)
                    {
                        FloatSpans.SetNaNWhere(p, undefined.AsSpan(0, count));
                        clock?.Lap(ClassifyStage.NaNScan);
                    }

                    if (codes is not null)
                    {
                        Mask(p, dest.Threshold, codeBlock is null ? outCodes.Slice(done, count) : codeBlock.AsSpan(done, count));
                        clock?.Lap(ClassifyStage.Codes);
                    }

                    if (!opening)
                    {
                        continue;
                    }

                    // The reference puts NaN back where the observation is nodata after opening.
                    var rowsFrom = block is null ? codePass.NextRow : pass.NextRow;
                    var rowsTo = inStart + ((done + count) / width);
                    if (block is null)
                    {
                        codePass.Advance(codeBlock.AsSpan(0, inPixels), rowsTo);
                        var opened = outCodes[((rowsFrom - rowStart) * width)..((codePass.NextRow - rowStart) * width)];
                        MarkNodata(opened, nodata.AsSpan((rowsFrom - inStart) * width, opened.Length));
                    }
                    else
                    {
                        pass.Advance(block.AsSpan(0, inPixels), rowsTo);
                        var opened = outP[((rowsFrom - rowStart) * width)..((pass.NextRow - rowStart) * width)];
                        FloatSpans.SetNaNWhere(opened, nodata.AsSpan((rowsFrom - inStart) * width, opened.Length));
                    }

                    clock?.Lap(ClassifyStage.Opening);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(undefined);
                Return(pool, block);
                Return(pool, chunkP);
                Return(pool, openScratch);
                Return(ArrayPool<byte>.Shared, codeBlock);
                Return(ArrayPool<byte>.Shared, codeScratch);
                Return(ArrayPool<byte>.Shared, nodata);
            }
        }

        private static void Return<T>(ArrayPool<T> pool, T[]? array)
        {
            if (array is not null)
            {
                pool.Return(array);
            }
        }
    }

    /// <summary><see cref="Nodata"/> where <paramref name="nodata"/> is 1 (it holds 0 or 1), 32 codes at a time.</summary>
    private static void MarkNodata(Span<byte> codes, ReadOnlySpan<byte> nodata)
    {
        var i = 0;
        for (; i <= codes.Length - 32; i += 32)
        {
            // 0 - 1 = 255: every bit set where the pixel is nodata.
            (Vector256.Create(codes.Slice(i, 32)) | (Vector256<byte>.Zero - Vector256.Create(nodata.Slice(i, 32)))).CopyTo(codes.Slice(i));
        }

        for (; i < codes.Length; i++)
        {
            codes[i] |= (byte)(0 - nodata[i]);
        }
    }
}

/// <summary>Pixels of a mask or class map: valid ones (not nodata), and of those cloud and cloud shadow.</summary>
public readonly record struct CodeCounts(long Valid, long Cloud, long Shadow);
