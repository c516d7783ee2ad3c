using S2CloudMask.Engine;
using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Cli;

/// <summary>
/// A raster file read a block of rows at a time through GDAL (tiled GeoTIFFs and COGs read
/// only the tiles under the rows). One buffer, sized for the largest block, is reused: the
/// image a call returns is valid until the next call.
/// </summary>
internal sealed class GdalRowSource : IBandRowSource, IDisposable
{
    private readonly GdalDataset _dataset;
    private readonly int _bands;
    private byte[] _buffer = [];

    public GdalRowSource(string path, int bands)
    {
        _dataset = GdalDataset.Open(path);
        if (_dataset.BandCount < bands)
        {
            throw new InvalidInputException("wrong-band-count", $"{path} has {_dataset.BandCount} bands; expected {bands} ({string.Join(" ", SpectralBands.Names)})");
        }

        _bands = bands;
        Type = GdalBandReader.ElementTypeOf(_dataset.DataType(1), path);
    }

    public GdalDataset Dataset => _dataset;

    public ElementType Type { get; }

    public int Height => _dataset.Height;

    public int Width => _dataset.Width;

    public int Bands => _bands;

    public BandImage ReadRows(int y, int rows)
    {
        var bytes = (long)rows * Width * Bands * Type.Size();
        if (_buffer.LongLength < bytes)
        {
            _buffer = new byte[bytes];
        }

        return GdalBandReader.ReadRows(_dataset, Bands, Type, y, rows, _buffer);
    }

    public void Dispose() => _dataset.Dispose();
}
