using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Engine.Gdal;

/// <summary>
/// Rows of a raster read in strips of whole block columns, each strip through a dataset of
/// its own on a thread of its own, into one band-sequential buffer: one GDAL read
/// decompresses its blocks on one core, and GDAL forbids two threads on one dataset.
/// <para>
/// Decompressing is most of the time of reading a compressed file: the CLI's full tile
/// (10980 x 10980 x 10 uint16, DEFLATE, two cores of an AMD EPYC of the Zen 3 generation)
/// took 5.9-6.4 s with two strips against 8.4-8.7 s with one, given a block cache that
/// holds the rows of blocks the reads share (the caller's to size: at GDAL's 256 MB the two
/// strips decompressed blocks again and took 10.9-11.0 s). GDAL's own threads for this
/// (GDAL_NUM_THREADS=ALL_CPUS) were slower: 11.5-17.1 s against 8.7-10.1 s without, with
/// twice the CPU time (21-26 s against 10-12).
/// </para>
/// </summary>
public sealed class StripReader : IDisposable
{
    private readonly Func<GdalDataset> _open;

    /// <summary>The columns each strip reads, whole blocks each.</summary>
    private readonly (int X0, int X1)[] _strips;

    /// <summary>Each strip's dataset: the first is the caller's, the others opened on first use (and disposed here).</summary>
    private readonly GdalDataset?[] _datasets;

    /// <param name="dataset">The raster, read by the first strip; the caller keeps it.</param>
    /// <param name="open">Opens the same raster again, for each further strip.</param>
    /// <param name="strips">How many strips a read is split into at most (one per core).</param>
    public StripReader(GdalDataset dataset, Func<GdalDataset> open, int strips)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(open);
        _open = open;
        _strips = Strips(dataset.Width, dataset.BlockSize(1).Width, strips);
        _datasets = new GdalDataset?[_strips.Length];
        _datasets[0] = dataset;
    }

    /// <summary>How many strips a read is split into.</summary>
    public int StripCount => _strips.Length;

    /// <summary>
    /// The columns of up to <paramref name="strips"/> strips of whole blocks of
    /// <paramref name="blockWidth"/>, as even as whole blocks allow; one strip when the blocks
    /// span the width.
    /// </summary>
    public static (int X0, int X1)[] Strips(int width, int blockWidth, int strips)
    {
        var blocks = (width + blockWidth - 1) / Math.Max(1, blockWidth);
        var n = Math.Clamp(strips, 1, Math.Max(1, blocks));
        return [.. Enumerable.Range(0, n).Select(s => (Math.Min(width, blocks * s / n * blockWidth), Math.Min(width, blocks * (s + 1) / n * blockWidth)))];
    }

    /// <summary>
    /// <see cref="GdalBandReader.ReadRows"/> in strips: bands 1 .. <paramref name="bands"/> of
    /// rows [<paramref name="y"/>, y + rows) into <paramref name="buffer"/>, the first strip on
    /// the calling thread. An error of any strip is thrown once all have ended.
    /// </summary>
    public BandImage ReadRows(int bands, ElementType type, int y, int rows, byte[] buffer)
    {
        var width = _datasets[0]!.Width;
        if (_strips.Length == 1)
        {
            return GdalBandReader.ReadRows(_datasets[0]!, bands, type, y, rows, buffer);
        }

        SideBySide.Run(
            _strips.Length,
            s =>
            {
                var dataset = _datasets[s] ??= _open();
                GdalBandReader.ReadColumns(dataset, bands, type, y, rows, _strips[s].X0, _strips[s].X1, buffer);
            },
            "read strip");
        return BandImage.Planar(buffer, type, bands, rows, width);
    }

    /// <summary>Disposes the datasets opened for the strips (not the caller's).</summary>
    public void Dispose()
    {
        foreach (var dataset in _datasets.Skip(1))
        {
            dataset?.Dispose();
        }
    }
}
