using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace S2CloudMask.Engine.Raster;

/// <summary>
/// Reads and writes NumPy .npy files (format versions 1, 2 and 3, little-endian, C order):
/// the format Python users already have their arrays in.
/// </summary>
public static class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Upper bound on a header; NumPy itself refuses more than this by default.</summary>
    private const int MaxHeaderLength = 64 * 1024;

    public static NdArray Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream);
    }

    public static NdArray Read(ReadOnlySpan<byte> bytes)
    {
        var (type, shape, dataOffset) = ReadHeader(bytes);
        var count = NdArray.ElementCount(shape) * type.Size();
        var available = bytes.Length - dataOffset;
        if (available < count)
        {
            throw Malformed($"data is truncated: shape {Format(shape)} of {type.NpyDescr()} needs {count} bytes, {available} present");
        }

        var data = bytes.Slice(dataOffset, checked((int)count)).ToArray();
        return new NdArray(type, shape, data);
    }

    /// <summary>Reads one array from a stream, allocating its data once.</summary>
    public static NdArray Read(Stream stream) =>
        ReadAsync(stream, null, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Reads one array from a stream, allocating its data once. <paramref name="checkHeader"/>
    /// sees the dtype and shape before anything is allocated for the data, so a caller can
    /// refuse a header that claims more than it accepts (it throws) without reading further.
    /// </summary>
    public static async ValueTask<NdArray> ReadAsync(Stream stream, Action<ElementType, int[]>? checkHeader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var prefix = new byte[12];
        var got = await stream.ReadAtLeastAsync(prefix, prefix.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got < 10)
        {
            throw Malformed(got == 0 ? "the body is empty" : "too short to be a .npy file");
        }

        var headerLength = HeaderLength(prefix.AsSpan(0, got), out var preamble);
        var header = new byte[preamble + headerLength];
        prefix.AsSpan(0, Math.Min(got, header.Length)).CopyTo(header);
        if (header.Length > got)
        {
            var more = await stream.ReadAtLeastAsync(header.AsMemory(got), header.Length - got, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (more < header.Length - got)
            {
                throw Malformed("the header is truncated");
            }
        }

        var (type, shape, _) = ReadHeader(header);
        checkHeader?.Invoke(type, shape);
        var count = NdArray.ElementCount(shape) * type.Size();
        if (count > Array.MaxLength)
        {
            throw new InputTooLargeException($"array of shape {Format(shape)} is {count} bytes, more than one array can hold");
        }

        var data = GC.AllocateUninitializedArray<byte>((int)count); // every byte is read into below (or the array is dropped)
        var leftover = got - header.Length;
        if (leftover > 0)
        {
            prefix.AsSpan(header.Length, (int)Math.Min(leftover, count)).CopyTo(data);
        }

        var start = Math.Max(0, leftover);
        if (start < count)
        {
            var read = await stream.ReadAtLeastAsync(data.AsMemory(start), (int)count - start, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read < count - start)
            {
                throw Malformed($"data is truncated: shape {Format(shape)} of {type.NpyDescr()} needs {count} bytes, {start + read} present");
            }
        }

        return new NdArray(type, shape, data);
    }

    public static void Write(string path, NdArray array)
    {
        using var stream = File.Create(path);
        Write(stream, array);
    }

    public static byte[] ToBytes(NdArray array)
    {
        using var ms = new MemoryStream();
        Write(ms, array);
        return ms.ToArray();
    }

    public static void Write(Stream stream, NdArray array)
    {
        var shape = Format(array.Shape);
        var dict = $"{{'descr': '{array.Type.NpyDescr()}', 'fortran_order': False, 'shape': {shape}, }}";
        // Version 1 unless the header needs more than 65535 bytes; pad so data starts on a
        // 64-byte boundary, as NumPy does, and end the header with a newline.
        var version = dict.Length + 11 > ushort.MaxValue ? 2 : 1;
        var preamble = version == 1 ? 10 : 12;
        var total = preamble + dict.Length + 1;
        var padded = (total + 63) / 64 * 64;
        var header = dict + new string(' ', padded - total) + "\n";

        Span<byte> pre = stackalloc byte[12];
        Magic.CopyTo(pre);
        pre[6] = (byte)version;
        pre[7] = 0;
        if (version == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(pre[8..], (ushort)header.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(pre[8..], (uint)header.Length);
        }

        stream.Write(pre[..preamble]);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(array.Data, 0, checked((int)(array.Length * array.Type.Size())));
    }

    private static int HeaderLength(ReadOnlySpan<byte> bytes, out int preamble)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
        {
            throw Malformed("missing the \\x93NUMPY magic string: not a .npy file");
        }

        var major = bytes[6];
        switch (major)
        {
            case 1:
                preamble = 10;
                return BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
            case 2 or 3:
                if (bytes.Length < 12)
                {
                    throw Malformed("the header is truncated");
                }

                preamble = 12;
                var len = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
                if (len > MaxHeaderLength)
                {
                    throw Malformed($"header length {len} exceeds {MaxHeaderLength} bytes");
                }

                return (int)len;
            default:
                throw Malformed($"unsupported .npy format version {major}.{bytes[7]}");
        }
    }

    private static (ElementType Type, int[] Shape, int DataOffset) ReadHeader(ReadOnlySpan<byte> bytes)
    {
        var headerLength = HeaderLength(bytes, out var preamble);
        if (bytes.Length < preamble + headerLength)
        {
            throw Malformed("the header is truncated");
        }

        var text = (bytes[6] == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(bytes.Slice(preamble, headerLength));
        var dict = HeaderParser.Parse(text);
        if (!dict.TryGetValue("descr", out var descrObj) || descrObj is not string descr)
        {
            throw Malformed("header has no 'descr' string");
        }

        if (!dict.TryGetValue("fortran_order", out var fortranObj) || fortranObj is not bool fortran)
        {
            throw Malformed("header has no 'fortran_order' flag");
        }

        if (!dict.TryGetValue("shape", out var shapeObj) || shapeObj is not List<long> shapeList)
        {
            throw Malformed("header has no 'shape' tuple");
        }

        var type = ElementTypes.FromNpyDescr(descr) ?? throw new InvalidInputException(
            "unsupported-dtype",
            $"unsupported .npy dtype '{descr}': use one of <f4 <f8 <u2 <i2 |u1 |b1 (little-endian)");
        if (fortran)
        {
            throw new InvalidInputException(
                "fortran-order",
                "the .npy array is in Fortran order; save it in C order (numpy.ascontiguousarray) first");
        }

        var shape = new int[shapeList.Count];
        for (var i = 0; i < shape.Length; i++)
        {
            if (shapeList[i] is < 0 or > int.MaxValue)
            {
                throw Malformed($"dimension {shapeList[i]} out of range");
            }

            shape[i] = (int)shapeList[i];
        }

        return (type, shape, preamble + headerLength);
    }

    private static InvalidInputException Malformed(string problem) => new("malformed-npy", "malformed .npy: " + problem);

    private static string Format(IReadOnlyList<int> shape) =>
        "(" + string.Join(", ", shape) + (shape.Count == 1 ? ",)" : ")");

    /// <summary>Parses the Python dict literal of a .npy header: strings, booleans, int tuples.</summary>
    private ref struct HeaderParser(string text)
    {
        private int _pos;

        public static Dictionary<string, object> Parse(string text)
        {
            var p = new HeaderParser(text);
            var result = p.ParseDict();
            p.SkipWhitespace();
            if (p._pos != text.Length)
            {
                throw Malformed($"unexpected text after the header dict at {p._pos}");
            }

            return result;
        }

        private Dictionary<string, object> ParseDict()
        {
            var result = new Dictionary<string, object>(StringComparer.Ordinal);
            Expect('{');
            while (true)
            {
                SkipWhitespace();
                if (TryConsume('}'))
                {
                    return result;
                }

                var key = ParseString();
                Expect(':');
                result[key] = ParseValue();
                SkipWhitespace();
                if (TryConsume(','))
                {
                    continue;
                }

                Expect('}');
                return result;
            }
        }

        private object ParseValue()
        {
            SkipWhitespace();
            if (_pos >= text.Length)
            {
                throw Malformed("header ends inside a value");
            }

            var c = text[_pos];
            if (c is '\'' or '"')
            {
                return ParseString();
            }

            if (c == '(')
            {
                return ParseTuple();
            }

            if (Match("True"))
            {
                return true;
            }

            if (Match("False"))
            {
                return false;
            }

            throw Malformed($"unexpected '{c}' in header at {_pos}");
        }

        private List<long> ParseTuple()
        {
            Expect('(');
            var items = new List<long>();
            while (true)
            {
                SkipWhitespace();
                if (TryConsume(')'))
                {
                    return items;
                }

                var start = _pos;
                while (_pos < text.Length && char.IsAsciiDigit(text[_pos]))
                {
                    _pos++;
                }

                // NumPy may write Python 2 longs such as "410L".
                if (_pos < text.Length && text[_pos] == 'L')
                {
                    _pos++;
                }

                var digits = text[start.._pos].TrimEnd('L');
                if (digits.Length == 0 || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                {
                    throw Malformed($"bad shape entry at {start}");
                }

                items.Add(v);
                SkipWhitespace();
                if (TryConsume(','))
                {
                    continue;
                }

                Expect(')');
                return items;
            }
        }

        private string ParseString()
        {
            SkipWhitespace();
            if (_pos >= text.Length || text[_pos] is not ('\'' or '"'))
            {
                throw Malformed($"expected a quoted string at {_pos}");
            }

            var quote = text[_pos++];
            var end = text.IndexOf(quote, _pos);
            if (end < 0)
            {
                throw Malformed("unterminated string in header");
            }

            var s = text[_pos..end];
            _pos = end + 1;
            return s;
        }

        private bool Match(string word)
        {
            if (string.CompareOrdinal(text, _pos, word, 0, word.Length) == 0)
            {
                _pos += word.Length;
                return true;
            }

            return false;
        }

        private void Expect(char c)
        {
            SkipWhitespace();
            if (!TryConsume(c))
            {
                throw Malformed($"expected '{c}' in header at {_pos}");
            }
        }

        private bool TryConsume(char c)
        {
            if (_pos < text.Length && text[_pos] == c)
            {
                _pos++;
                return true;
            }

            return false;
        }

        private void SkipWhitespace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }
    }
}
