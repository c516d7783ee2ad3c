using System.Text;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Engine.Tests.Raster;

public sealed class NpyTests
{
    [Theory]
    [InlineData(ElementType.Float32)]
    [InlineData(ElementType.Float64)]
    [InlineData(ElementType.UInt16)]
    [InlineData(ElementType.Int16)]
    [InlineData(ElementType.UInt8)]
    [InlineData(ElementType.Bool)]
    public void EachDtypeRoundTrips(ElementType type)
    {
        var array = NdArray.Zeros(type, 3, 4, 2);
        for (var i = 0; i < array.Data.Length; i++)
        {
            array.Data[i] = (byte)((i * 37) + 1);
        }

        if (type == ElementType.Bool)
        {
            for (var i = 0; i < array.Data.Length; i++)
            {
                array.Data[i] &= 1;
            }
        }

        var bytes = Npy.ToBytes(array);
        Assert.Equal(0, (bytes.Length - array.Data.Length) % 64);
        var back = Npy.Read(bytes);
        Assert.Equal(type, back.Type);
        Assert.Equal([3, 4, 2], back.Shape);
        Assert.Equal(array.Data, back.Data);
    }

    [Fact]
    public void ReadsNumpyWrittenHeaderWithDescrAndShape()
    {
        var bytes = Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24);
        BitConverter.GetBytes(1.5f).CopyTo(bytes, bytes.Length - 24);
        var a = Npy.Read(bytes);
        Assert.Equal(ElementType.Float32, a.Type);
        Assert.Equal([2, 3], a.Shape);
        Assert.Equal(1.5f, a.AsSpan<float>()[0]);
    }

    [Fact]
    public void ReadsVersion2HeaderAndOneDimensionalShape()
    {
        var bytes = Build(2, "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", 5);
        var a = Npy.Read(bytes);
        Assert.Equal([5], a.Shape);
        Assert.Equal(ElementType.UInt8, a.Type);
    }

    [Fact]
    public void ReadsFromStreamSameAsFromBytes()
    {
        var array = NdArray.Create(Enumerable.Range(0, 1000).Select(i => (float)i).ToArray(), 10, 10, 10);
        var bytes = Npy.ToBytes(array);
        var fromStream = Npy.Read(new MemoryStream(bytes));
        Assert.Equal(array.Data, fromStream.Data);
    }

    [Fact]
    public async Task HeaderCheckSeesShapeBeforeTheDataIsReadAndCanRefuse()
    {
        // A header claiming 4 GB of float32 with no data behind it: refused from the header alone.
        var bytes = Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (32768, 32768), }", 0);
        var seen = (ElementType.Bool, Array.Empty<int>());
        var e = await Assert.ThrowsAsync<InputTooLargeException>(async () => await Npy.ReadAsync(
            new MemoryStream(bytes),
            (type, shape) =>
            {
                seen = (type, shape);
                throw new InputTooLargeException("too many pixels");
            },
            CancellationToken.None));
        Assert.Equal("too many pixels", e.Message);
        Assert.Equal(ElementType.Float32, seen.Item1);
        Assert.Equal([32768, 32768], seen.Item2);

        var ok = await Npy.ReadAsync(new MemoryStream(Npy.ToBytes(NdArray.Create(new float[] { 1, 2, 3 }, 3))), (_, _) => { }, CancellationToken.None);
        Assert.Equal([1f, 2f, 3f], ok.AsSpan<float>().ToArray());
    }

    [Fact]
    public void FortranOrderIsRejected()
    {
        var bytes = Build(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24);
        var e = Assert.Throws<InvalidInputException>(() => Npy.Read(bytes));
        Assert.Equal("fortran-order", e.Code);
    }

    [Theory]
    [InlineData("<i8")]
    [InlineData(">f4")]
    [InlineData("<c8")]
    public void UnsupportedDtypeIsRejectedByName(string descr)
    {
        var bytes = Build(1, $"{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}", 16);
        var e = Assert.Throws<InvalidInputException>(() => Npy.Read(bytes));
        Assert.Equal("unsupported-dtype", e.Code);
        Assert.Contains(descr, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedDataGivesClearError()
    {
        var bytes = Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 10), }", 100);
        var e = Assert.Throws<InvalidInputException>(() => Npy.Read(new MemoryStream(bytes)));
        Assert.Equal("malformed-npy", e.Code);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.Contains("400 bytes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a numpy file at all")]
    [InlineData("")]
    public void MissingMagicIsMalformed(string content)
    {
        var e = Assert.Throws<InvalidInputException>(() => Npy.Read(new MemoryStream(Encoding.ASCII.GetBytes(content))));
        Assert.Equal("malformed-npy", e.Code);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'shape': (2,), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)")]
    [InlineData("['descr']")]
    public void MalformedHeaderIsRejected(string header)
    {
        var bytes = Build(1, header, 8);
        var e = Assert.Throws<InvalidInputException>(() => Npy.Read(bytes));
        Assert.Equal("malformed-npy", e.Code);
    }

    [Fact]
    public void TruncatedHeaderIsRejected()
    {
        var bytes = Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 0)[..20];
        var e = Assert.Throws<InvalidInputException>(() => Npy.Read(new MemoryStream(bytes)));
        Assert.Equal("malformed-npy", e.Code);
    }

    private static byte[] Build(int version, string dict, int dataBytes)
    {
        var header = Encoding.ASCII.GetBytes(dict + "\n");
        var pre = version == 1 ? 10 : 12;
        var result = new byte[pre + header.Length + dataBytes];
        result[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(result, 1);
        result[6] = (byte)version;
        if (version == 1)
        {
            BitConverter.GetBytes((ushort)header.Length).CopyTo(result, 8);
        }
        else
        {
            BitConverter.GetBytes((uint)header.Length).CopyTo(result, 8);
        }

        header.CopyTo(result, pre);
        return result;
    }
}
