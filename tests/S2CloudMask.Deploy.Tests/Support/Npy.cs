using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace S2CloudMask.Deploy.Tests.Support;

/// <summary>Builds and reads just enough NumPy .npy (format 1.0) for the service tests.</summary>
public static partial class Npy
{
    /// <summary>A (y, x, bands) little-endian float32 array of plausible surface reflectances.</summary>
    public static byte[] Reflectance(int height, int width, int bands = 10, int seed = 7)
    {
        var header = Header("<f4", $"({height}, {width}, {bands})");
        var data = new byte[checked(height * width * bands * 4)];
        var random = new Random(seed);
        var row = new byte[width * bands * 4];
        for (var i = 0; i < width * bands; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(row.AsSpan(i * 4), 0.02f + (0.5f * (float)random.NextDouble()));
        }

        // Rows repeat (with a shift) so large arrays are quick to build.
        for (var y = 0; y < height; y++)
        {
            var shift = (y * 4 * bands) % row.Length;
            row.AsSpan(shift).CopyTo(data.AsSpan(y * row.Length));
            row.AsSpan(0, shift).CopyTo(data.AsSpan((y * row.Length) + row.Length - shift));
        }

        return [.. header, .. data];
    }

    /// <summary>The dtype descr and shape of an .npy, and where its data starts.</summary>
    public static (string Descr, int[] Shape, int DataOffset) ReadHeader(byte[] npy)
    {
        if (npy.Length < 10 || npy[0] != 0x93 || Encoding.ASCII.GetString(npy, 1, 5) != "NUMPY")
        {
            throw new FormatException("not an .npy file");
        }

        int headerLength, start;
        if (npy[6] == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(npy.AsSpan(8));
            start = 10;
        }
        else
        {
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(npy.AsSpan(8)));
            start = 12;
        }

        var header = Encoding.ASCII.GetString(npy, start, headerLength);
        var descr = DescrPattern().Match(header).Groups[1].Value;
        var shape = ShapePattern().Match(header).Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture))
            .ToArray();
        return (descr, shape, start + headerLength);
    }

    private static byte[] Header(string descr, string shape)
    {
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        var total = 10 + dict.Length + 1;
        var padded = dict + new string(' ', (64 - (total % 64)) % 64) + "\n";
        var bytes = new byte[10 + padded.Length];
        bytes[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(bytes, 1);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)padded.Length);
        Encoding.ASCII.GetBytes(padded).CopyTo(bytes, 10);
        return bytes;
    }

    [GeneratedRegex(@"'descr':\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
