using System.Runtime.InteropServices;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Raster;
using S2CloudMask.Engine.Tests.Support;

namespace S2CloudMask.Engine.Tests.Classification;

/// <summary>
/// The streaming classifier's read-ahead: the next block is read while this one is
/// classified, one read at a time and in order, each image used only until the call after
/// next, and no read left running when a run ends by an error.
/// </summary>
public sealed class StreamingClassifierTests
{
    private const int BlockRows = 37;

    [SharedFact]
    public void ReadsAheadOneBlockAtATimeAndGivesTheWholeImageResults()
    {
        var (model, clear) = Load();
        var expected = new byte[clear.PixelCount];
        CloudClassifier.Mask(model, clear, Scaling.Identity, null, Scaling.Identity, model.Threshold, expected);
        var whole = CloudClassifier.Probability(model, clear, Scaling.Identity);

        var source = new TurnSource(clear);
        var codes = new byte[clear.PixelCount];
        StreamingClassifier.RunMask(model, source, Scaling.Identity, null, BlockRows, model.Threshold, (row, m) => m.Span.CopyTo(codes.AsSpan(row * clear.Width)));
        Assert.Equal(expected, codes);
        Assert.Equal(0, source.Overlaps);

        // Each block read once, in order, from two rows above it (the opening's halo).
        var starts = Enumerable.Range(0, (clear.Height + BlockRows - 1) / BlockRows).Select(b => Math.Max(0, (b * BlockRows) - 2));
        Assert.Equal(starts, source.Starts);

        var probabilities = new float[clear.PixelCount];
        source = new TurnSource(clear);
        StreamingClassifier.Run(model, source, Scaling.Identity, null, BlockRows, (row, p) => p.Span.CopyTo(probabilities.AsSpan(row * clear.Width)));
        Assert.Equal(whole, probabilities);
        Assert.Equal(0, source.Overlaps);
    }

    [SharedFact]
    public void AFailedReadEndsTheRunWithItsError()
    {
        var (model, clear) = Load();
        var source = new TurnSource(clear, failAt: 3);
        var sunk = new List<int>();

        var e = Assert.Throws<IOException>(() =>
            StreamingClassifier.RunMask(model, source, Scaling.Identity, null, BlockRows, model.Threshold, (row, _) => sunk.Add(row)));

        Assert.Equal("read 3 failed", e.Message);
        Assert.Equal([0, BlockRows, 2 * BlockRows], sunk);
        Assert.Equal(4, source.Starts.Count);
        Assert.Equal(0, source.InFlight);
    }

    /// <summary>The read of block 2 is slow, so it is still running when block 1's sink fails: the run waits for it.</summary>
    [SharedFact]
    public void AFailedSinkLeavesNoReadRunning()
    {
        var (model, clear) = Load();
        var source = new TurnSource(clear, slowAt: 2);

        Assert.Throws<InvalidOperationException>(() =>
            StreamingClassifier.RunMask(model, source, Scaling.Identity, null, BlockRows, model.Threshold, (row, _) =>
            {
                if (row == BlockRows)
                {
                    throw new InvalidOperationException("sink failed");
                }
            }));

        Assert.Equal(0, source.InFlight);
        Assert.Equal(3, source.Starts.Count);
    }

    [SharedFact]
    public void CancellingLeavesNoReadRunning()
    {
        var (model, clear) = Load();
        var source = new TurnSource(clear, slowAt: 2);
        using var cancel = new CancellationTokenSource();
        var options = new ClassifyOptions { CancellationToken = cancel.Token };

        Assert.ThrowsAny<OperationCanceledException>(() =>
            StreamingClassifier.RunMask(model, source, Scaling.Identity, null, BlockRows, model.Threshold, (row, _) => cancel.Cancel(), options));

        Assert.Equal(0, source.InFlight);
        Assert.True(source.Starts.Count <= 2, $"{source.Starts.Count} reads");
    }

    private static (CloudModel Model, BandImage Clear) Load()
    {
        SharedData.Require();
        return (ModelFile.Load(SharedData.Model("fast")), BandImage.FromArray(Npy.Read(SharedData.Data("clear-wright-20160101.npy"))));
    }

    /// <summary>
    /// Rows of a float32 (y, x, band) image copied into one of two buffers used in turn, as a
    /// file source reads them: first the buffer (the image of the call before last) is spoilt
    /// with NaN and the call waits a little, so a classifier that still used that image, or
    /// read twice at once, would give other results or count an overlap.
    /// </summary>
    private sealed class TurnSource(BandImage image, int failAt = -1, int slowAt = -1) : IBandRowSource
    {
        private readonly byte[][] _buffers = [[], []];
        private int _inFlight;
        private int _overlaps;

        public int Height => image.Height;

        public int Width => image.Width;

        public int Bands => image.Bands;

        /// <summary>The first row of each call, in call order.</summary>
        public List<int> Starts { get; } = [];

        public int Overlaps => Volatile.Read(ref _overlaps);

        /// <summary>Calls running now.</summary>
        public int InFlight => Volatile.Read(ref _inFlight);

        public BandImage ReadRows(int y, int rows)
        {
            if (Interlocked.Increment(ref _inFlight) != 1)
            {
                Interlocked.Increment(ref _overlaps);
            }

            try
            {
                int call;
                lock (Starts)
                {
                    call = Starts.Count;
                    Starts.Add(y);
                }

                if (call == failAt)
                {
                    throw new IOException($"read {call} failed");
                }

                var rowBytes = image.Width * image.Bands * sizeof(float);
                ref var buffer = ref _buffers[call & 1];
                if (buffer.Length < rows * rowBytes)
                {
                    buffer = new byte[rows * rowBytes];
                }

                MemoryMarshal.Cast<byte, float>(buffer.AsSpan()).Fill(float.NaN);
                Thread.Sleep(call == slowAt ? 300 : 5);
                image.Data.AsSpan(checked((int)(image.Offset * sizeof(float)) + (y * rowBytes)), rows * rowBytes).CopyTo(buffer);
                return BandImage.Interleaved(buffer, ElementType.Float32, rows, image.Width, image.Bands);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }
}
