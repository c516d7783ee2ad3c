using System.Runtime.ExceptionServices;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Cli;

/// <summary>
/// A raster file read a block of rows at a time through GDAL (tiled GeoTIFFs and COGs read
/// only the tiles under the rows). Two buffers, each sized for the largest block, are used
/// in turn: the image a call returns is valid until the call after next, as the streaming
/// classifier reads a block ahead.
/// <para>
/// A tiled file's rows are read in strips of whole tile columns, each through a dataset of
/// its own on a thread of its own: decompressing the tiles is most of the work of masking a
/// compressed file, and one GDAL read decompresses on one core. GDAL's own threads for this
/// (GDAL_NUM_THREADS=ALL_CPUS) were slower: the full tile of <c>bench/fulltile.sh</c> (10980 x
/// 10980 x 10 uint16, DEFLATE) took 11.5-17.1 s with them against 8.7-10.1 s without, on two
/// cores of an AMD EPYC (Zen 3), with twice the CPU time (21-26 s against 10-12).
/// </para>
/// </summary>
internal sealed class GdalRowSource : IBandRowSource, IDisposable
{
    private readonly string _path;
    private readonly int _bands;

    /// <summary>The columns each strip reads, whole tiles each.</summary>
    private readonly (int X0, int X1)[] _strips;

    /// <summary>Each strip's dataset: the first is <see cref="Dataset"/>, the others are opened on first use.</summary>
    private readonly GdalDataset?[] _datasets;

    /// <summary>The buffers the calls use in turn.</summary>
    private readonly byte[][] _buffers = [[], []];

    private int _calls;

    /// <param name="strips">How many strips of tile columns to read at once, at most (one per core).</param>
    public GdalRowSource(string path, int bands, int strips = 1)
    {
        _path = path;
        Dataset = GdalDataset.Open(path);
        try
        {
            if (Dataset.BandCount < bands)
            {
                throw new InvalidInputException("wrong-band-count", $"{path} has {Dataset.BandCount} bands; expected {bands} ({string.Join(" ", SpectralBands.Names)})");
            }

            _bands = bands;
            Type = GdalBandReader.ElementTypeOf(Dataset.DataType(1), path);
            BlockSize = Dataset.BlockSize(1);
            _strips = Strips(Dataset.Width, BlockSize.Width, strips);
            _datasets = new GdalDataset?[_strips.Length];
            _datasets[0] = Dataset;
        }
        catch
        {
            Dataset.Dispose();
            throw;
        }
    }

    public GdalDataset Dataset { get; }

    public ElementType Type { get; }

    /// <summary>The file's blocks (tiles, or strips of rows), as band 1 has them.</summary>
    public (int Width, int Height) BlockSize { get; }

    /// <summary>How many strips a read is split into.</summary>
    public int StripCount => _strips.Length;

    public int Height => Dataset.Height;

    public int Width => Dataset.Width;

    public int Bands => _bands;

    /// <summary>
    /// The columns of up to <paramref name="strips"/> strips of whole blocks of
    /// <paramref name="blockWidth"/>, as even as whole blocks allow; one strip when the blocks
    /// span the width.
    /// </summary>
    internal static (int X0, int X1)[] Strips(int width, int blockWidth, int strips)
    {
        var blocks = (width + blockWidth - 1) / Math.Max(1, blockWidth);
        var n = Math.Clamp(strips, 1, Math.Max(1, blocks));
        return [.. Enumerable.Range(0, n).Select(s => (Math.Min(width, blocks * s / n * blockWidth), Math.Min(width, blocks * (s + 1) / n * blockWidth)))];
    }

    /// <summary>
    /// The block cache reads of <paramref name="rows"/> rows need so that no block is
    /// decompressed twice as the reads move down the file: every row of blocks such a read
    /// can touch (one more than its height needs, where it starts inside a row of blocks, as
    /// the opening's halo makes it), and 15 % for GDAL's bookkeeping. The next read shares
    /// its first rows of blocks with this one and the least recently used go first, so no
    /// more is needed. Pixel-interleaved blocks hold every band of the file.
    /// </summary>
    public long CacheBytesFor(int rows)
    {
        var blockRows = Math.Max(1, BlockSize.Height);
        var touched = ((rows + blockRows - 1) / blockRows) + 1;
        var rowOfBlocks = (long)blockRows * Width * Dataset.BandCount * Type.Size();
        return touched * rowOfBlocks * 115 / 100;
    }

    public BandImage ReadRows(int y, int rows)
    {
        var bytes = (long)rows * Width * Bands * Type.Size();
        var turn = _calls++ & 1;
        if (_buffers[turn].LongLength < bytes)
        {
            _buffers[turn] = new byte[bytes];
        }

        var buffer = _buffers[turn];
        if (_strips.Length == 1)
        {
            return GdalBandReader.ReadRows(Dataset, Bands, Type, y, rows, buffer);
        }

        // Every strip but the first on a thread of its own, the first on this one.
        var errors = new ExceptionDispatchInfo?[_strips.Length];
        void Read(int s)
        {
            try
            {
                var dataset = _datasets[s] ??= GdalDataset.Open(_path);
                GdalBandReader.ReadColumns(dataset, Bands, Type, y, rows, _strips[s].X0, _strips[s].X1, buffer);
            }
            catch (Exception e)
            {
                errors[s] = ExceptionDispatchInfo.Capture(e);
            }
        }

        var threads = new Thread[_strips.Length - 1];
        for (var s = 1; s < _strips.Length; s++)
        {
            var strip = s;
            threads[s - 1] = new Thread(() => Read(strip)) { IsBackground = true, Name = $"read strip {strip}" };
            threads[s - 1].Start();
        }

        Read(0);
        foreach (var thread in threads)
        {
            thread.Join();
        }

        errors.FirstOrDefault(e => e is not null)?.Throw();
        return BandImage.Planar(buffer, Type, Bands, rows, Width);
    }

    public void Dispose()
    {
        foreach (var dataset in _datasets.Skip(1))
        {
            dataset?.Dispose();
        }

        Dataset.Dispose();
    }
}
