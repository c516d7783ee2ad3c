using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Tests.Support;

/// <summary>Request bodies of every kind the service reads.</summary>
public static class Requests
{
    public static ByteArrayContent Binary(byte[] bytes, string mediaType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    public static ByteArrayContent Npy(NdArray array) => Binary(S2CloudMask.Engine.Raster.Npy.ToBytes(array), "application/x-npy");

    public static ByteArrayContent Npy(byte[] bytes) => Binary(bytes, "application/x-npy");

    public static ByteArrayContent Tiff(byte[] bytes) => Binary(bytes, "image/tiff");

    /// <summary><c>{"shape": [...], "data": [...]}</c> with the array's values as numbers.</summary>
    public static StringContent Json(NdArray array)
    {
        var values = array.Type switch
        {
            ElementType.UInt16 => array.AsSpan<ushort>().ToArray().Select(v => (double)v),
            ElementType.Float32 => array.AsSpan<float>().ToArray().Select(v => (double)v),
            _ => throw new NotSupportedException(array.Type.ToString()),
        };
        var json = JsonSerializer.Serialize(new { shape = array.Shape, data = values });
        return new StringContent(json, Encoding.UTF8, "application/json");
    }

    public static MultipartFormDataContent Form(byte[] file, string fileName, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, "file", fileName);
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return form;
    }

    /// <summary>A .npy file written by hand, for headers the engine's writer would never produce.</summary>
    public static byte[] NpyBytes(string descr, string shape, bool fortranOrder, int dataBytes)
    {
        var dict = $"{{'descr': '{descr}', 'fortran_order': {(fortranOrder ? "True" : "False")}, 'shape': {shape}, }}";
        var total = 10 + dict.Length + 1;
        var header = dict + new string(' ', ((total + 63) / 64 * 64) - total) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 };
        bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(new byte[dataBytes]);
        return [.. bytes];
    }

    public static double Header(HttpResponseMessage response, string name) =>
        double.Parse(response.Headers.GetValues(name).Single(), NumberStyles.Float, CultureInfo.InvariantCulture);
}
