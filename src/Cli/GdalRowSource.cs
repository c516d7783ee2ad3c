using S2CloudMask.Engine;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Cli;

/// <summary>
/// A raster file read a block of rows at a time through GDAL (tiled GeoTIFFs and COGs read
/// only the tiles under the rows), in strips of tile columns, one per core
/// (<see cref="StripReader"/>). Two buffers, each sized for the largest block, are used in
/// turn: the image a call returns is valid until the call after next, as the streaming
/// classifier reads a block ahead.
/// </summary>
internal sealed class GdalRowSource : IBandRowSource, IDisposable
{
    private readonly int _bands;
    private readonly StripReader _reader;

    /// <summary>The buffers the calls use in turn.</summary>
    private readonly byte[][] _buffers = [[], []];

    private int _calls;

    /// <param name="strips">How many strips of tile columns to read at once, at most (one per core).</param>
    public GdalRowSource(string path, int bands, int strips = 1)
    {
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
            _reader = new StripReader(Dataset, () => GdalDataset.Open(path), strips);
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
    public int StripCount => _reader.StripCount;

    public int Height => Dataset.Height;

    public int Width => Dataset.Width;

    public int Bands => _bands;

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

        return _reader.ReadRows(Bands, Type, y, rows, _buffers[turn]);
    }

    public void Dispose()
    {
        _reader.Dispose();
        Dataset.Dispose();
    }
}
