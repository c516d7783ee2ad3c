using System.Runtime.InteropServices;
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
    private readonly int[] _bands;
    private byte[] _buffer = [];

    public GdalRowSource(string path, int bands)
    {
        _dataset = GdalDataset.Open(path);
        if (_dataset.BandCount < bands)
        {
            throw new InvalidInputException("wrong-band-count", $"{path} has {_dataset.BandCount} bands; expected {bands} ({string.Join(" ", SpectralBands.Names)})");
        }

        _bands = [.. Enumerable.Range(1, bands)];
        Type = _dataset.DataType(1) switch
        {
            GdalDataType.Byte => ElementType.UInt8,
            GdalDataType.UInt16 => ElementType.UInt16,
            GdalDataType.Int16 => ElementType.Int16,
            GdalDataType.Float32 => ElementType.Float32,
            GdalDataType.Float64 => ElementType.Float64,
            var t => throw new InvalidInputException("unsupported-dtype", $"{path}: bands of type {t} are not supported"),
        };
    }

    public GdalDataset Dataset => _dataset;

    public ElementType Type { get; }

    public int Height => _dataset.Height;

    public int Width => _dataset.Width;

    public int Bands => _bands.Length;

    public BandImage ReadRows(int y, int rows)
    {
        var bytes = (long)rows * Width * Bands * Type.Size();
        if (_buffer.LongLength < bytes)
        {
            _buffer = new byte[bytes];
        }

        var span = _buffer.AsSpan(0, (int)bytes);
        switch (Type)
        {
            case ElementType.UInt8: _dataset.ReadBands(_bands, 0, y, Width, rows, span); break;
            case ElementType.UInt16: _dataset.ReadBands(_bands, 0, y, Width, rows, MemoryMarshal.Cast<byte, ushort>(span)); break;
            case ElementType.Int16: _dataset.ReadBands(_bands, 0, y, Width, rows, MemoryMarshal.Cast<byte, short>(span)); break;
            case ElementType.Float32: _dataset.ReadBands(_bands, 0, y, Width, rows, MemoryMarshal.Cast<byte, float>(span)); break;
            default: _dataset.ReadBands(_bands, 0, y, Width, rows, MemoryMarshal.Cast<byte, double>(span)); break;
        }

        return BandImage.Planar(_buffer, Type, Bands, rows, Width);
    }

    public void Dispose() => _dataset.Dispose();
}
