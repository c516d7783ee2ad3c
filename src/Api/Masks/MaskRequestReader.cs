using System.Text.Json;
using Microsoft.Net.Http.Headers;
using S2CloudMask.Api.Problems;
using S2CloudMask.Api.Remote;
using S2CloudMask.Engine;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Raster;

namespace S2CloudMask.Api.Masks;

/// <summary>
/// Reads the body of <c>POST /mask</c>: a .npy (application/x-npy or application/octet-stream),
/// a GeoTIFF (image/tiff), JSON <c>{"shape": [...], "data": [...]}</c>, or a multipart form
/// whose <c>file</c> part is either of the first two. Sizes are checked against
/// <see cref="LimitsOptions"/> before anything large is allocated where the format allows it.
/// </summary>
public static class MaskRequestReader
{
    public static IReadOnlyList<string> BinaryNpyTypes { get; } = ["application/x-npy", "application/octet-stream"];

    public static IReadOnlyList<string> TiffTypes { get; } = ["image/tiff", "image/geotiff", "application/geotiff"];

    private static ReadOnlySpan<byte> NpyMagic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static async Task<(MaskInput Input, MaskQuery Query)> ReadAsync(
        HttpRequest request, MaskQuery query, LimitsOptions limits, CancellationToken cancellationToken, RemoteSources? remote = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > limits.MaxBodyBytes)
        {
            throw TooLarge(limits);
        }

        if (request.ContentLength == 0)
        {
            throw EmptyBody();
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) || contentType.MediaType.Value is not { } mediaType)
        {
            if (string.IsNullOrEmpty(request.ContentType) && (await ReadBodyAsync(request, limits, cancellationToken)).Length == 0)
            {
                throw EmptyBody();
            }

            throw new UnsupportedMediaTypeException(
                $"the body needs a Content-Type: {string.Join(", ", BinaryNpyTypes.Concat(TiffTypes))}, application/json or multipart/form-data");
        }

        mediaType = mediaType.ToLowerInvariant();
        if (mediaType == "multipart/form-data")
        {
            return await ReadFormAsync(request, query, limits, cancellationToken);
        }

        if (BinaryNpyTypes.Contains(mediaType))
        {
            return (await ReadNpyAsync(request, limits, cancellationToken), query);
        }

        if (TiffTypes.Contains(mediaType))
        {
            return (ReadTiff(await ReadBodyAsync(request, limits, cancellationToken), limits), query);
        }

        if (mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal))
        {
            var json = await ReadBodyAsync(request, limits, cancellationToken);
            if (remote is not null && RemoteRequest.IsRemote(json))
            {
                return await ReadRemoteAsync(json, query, limits, remote, cancellationToken);
            }

            return (ReadJson(json, limits), query);
        }

        throw new UnsupportedMediaTypeException(
            $"Content-Type '{mediaType}' is not supported: send {string.Join(", ", BinaryNpyTypes.Concat(TiffTypes))}, application/json or multipart/form-data");
    }

    /// <summary>
    /// A JSON body naming COG / STAC sources: one source is one observation (georeferenced by its
    /// window); "sources" with several is a stack of dates, decoded to reflectance.
    /// </summary>
    public static async Task<(MaskInput Input, MaskQuery Query)> ReadRemoteAsync(
        byte[] json, MaskQuery query, LimitsOptions limits, RemoteSources remote, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var request = RemoteRequest.Parse(json);
        var merged = request.Merge(query);
        if (request.Sources.Count == 1 && !request.Root.TryGetProperty("sources", out _))
        {
            return (await remote.ReadAsync(request.Sources[0], request, limits, cancellationToken), merged);
        }

        var (stack, georeference) = await remote.ReadStackAsync(request, merged.Scale, merged.Offset, merged.Nodata, limits, cancellationToken);

        // The dates are reflectance now: the caller's scaling has been applied.
        return (MaskInput.OfStack(stack, georeference), merged with { Scale = null, Offset = null, Nodata = null });
    }

    /// <summary>
    /// A .npy body read straight into its array, allocated once: the header's shape is checked
    /// against the limits (and against the body's length) before the data is allocated.
    /// </summary>
    public static async Task<MaskInput> ReadNpyAsync(HttpRequest request, LimitsOptions limits, CancellationToken cancellationToken)
    {
        var declared = request.ContentLength;
        if (declared == 0)
        {
            throw EmptyBody();
        }

        if (declared > Math.Min(limits.MaxBodyBytes, Array.MaxLength))
        {
            throw TooLarge(limits);
        }

        var array = await Npy.ReadAsync(
            request.Body,
            (type, shape) =>
            {
                CheckPixels(shape.Length switch
                {
                    3 => (long)shape[0] * shape[1],
                    4 => (long)shape[0] * shape[1] * shape[3],
                    _ => 0,
                }, limits);
                var bytes = NdArray.ElementCount(shape) * type.Size();
                if (bytes > limits.MaxBodyBytes)
                {
                    throw TooLarge(limits);
                }

                if (bytes > declared)
                {
                    throw new InvalidInputException("malformed-npy", $"malformed .npy: data is truncated: the header declares {bytes} bytes of data, the body has {declared} bytes in all");
                }
            },
            cancellationToken);
        return MaskInput.FromArray(array);
    }

    public static MaskInput ReadNpy(byte[] body, LimitsOptions limits)
    {
        if (body.Length == 0)
        {
            throw EmptyBody();
        }

        // Reading from the buffered body checks truncation before allocating the array, so a
        // header that claims more than was sent costs nothing.
        var array = Npy.Read(body);
        var input = MaskInput.FromArray(array);
        CheckPixels(input.PixelCount, limits);
        return input;
    }

    public static MaskInput ReadTiff(byte[] body, LimitsOptions limits)
    {
        if (body.Length == 0)
        {
            throw EmptyBody();
        }

        // Only TIFF: GDAL would also open e.g. a VRT, whose XML can point at files on this
        // machine. The signature check gives the clearer message; the driver list enforces it.
        if (!LooksLikeTiff(body))
        {
            throw new InvalidInputException("unreadable-tiff", "the body is not a TIFF (no II*/MM* signature)");
        }

        try
        {
            using var file = new VsiMemFile(body, ".tif");
            GdalDataset Open() => GdalDataset.Open(file.Path, allowedDrivers: ["GTiff"]);
            using var dataset = Open();
            CheckPixels((long)dataset.Width * dataset.Height, limits);
            if (dataset.BandCount == 0)
            {
                throw new InvalidInputException("wrong-band-count", "the TIFF has no raster bands");
            }

            var type = GdalBandReader.ElementTypeOf(dataset.DataType(1), "the TIFF");
            var bytes = (long)dataset.Width * dataset.Height * dataset.BandCount * type.Size();
            if (bytes > Array.MaxLength)
            {
                throw new InputTooLargeException($"the TIFF's pixels take {bytes} bytes, more than one array can hold");
            }

            // In strips of tiles, one per core: decompressing is most of reading a TIFF. A
            // 2048 x 2048 x 10 uint16 DEFLATE upload (tiles of 512) was read in 158-333 ms
            // (median 186, twelve requests) against 252-719 (median 300) in one read, the
            // requests taking a median 409 ms against 510 (two services alternating, the
            // Zen 3 EPYC's two cores).
            using var strips = new StripReader(dataset, Open, Environment.ProcessorCount);
            var image = strips.ReadRows(dataset.BandCount, type, 0, dataset.Height, new byte[bytes]);
            var georeference = new Georeference(dataset.GetGeoTransform(), dataset.ProjectionWkt);
            return MaskInput.Single(image, georeference, dataset.GetNoData(1));
        }
        catch (GdalException e)
        {
            throw new InvalidInputException("unreadable-tiff", "GDAL cannot read the TIFF: " + e.Message, e);
        }
    }

    /// <summary><c>{"shape": [y, x, 10] or [y, x, 10, t], "data": [...]}</c>, data flat in row-major order; null is NaN (nodata).</summary>
    public static MaskInput ReadJson(byte[] body, LimitsOptions limits)
    {
        if (body.Length == 0)
        {
            throw EmptyBody();
        }

        int[]? shape = null;
        List<float>? data = null;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject, "the body must be a JSON object {\"shape\": [...], \"data\": [...]}");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "shape":
                        shape = ReadShape(ref reader);
                        if (shape.Length is not (3 or 4))
                        {
                            throw new InvalidInputException("wrong-shape", $"shape must be [y, x, band] or [y, x, band, time], got [{string.Join(", ", shape)}]");
                        }

                        CheckPixels(shape.Length == 4 ? (long)shape[0] * shape[1] * shape[3] : (long)shape[0] * shape[1], limits);
                        break;
                    case "data":
                        data = ReadData(ref reader, body.Length);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            Expect(reader.TokenType == JsonTokenType.EndObject, "the body must be one JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("malformed-json", "the JSON body is malformed: " + e.Message, e);
        }

        if (shape is null || data is null)
        {
            throw new InvalidInputException("malformed-json", "the JSON body needs both \"shape\" and \"data\"");
        }

        var expected = NdArray.ElementCount(shape);
        if (expected != data.Count)
        {
            throw new InvalidInputException(
                "wrong-shape", $"shape [{string.Join(", ", shape)}] needs {expected} values but data holds {data.Count}");
        }

        var input = MaskInput.FromArray(NdArray.Create(data.ToArray(), shape));
        CheckPixels(input.PixelCount, limits);
        return input;
    }

    private static async Task<(MaskInput, MaskQuery)> ReadFormAsync(
        HttpRequest request, MaskQuery query, LimitsOptions limits, CancellationToken cancellationToken)
    {
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            throw new InputTooLargeException($"the multipart body exceeds a limit: {e.Message}");
        }
        catch (InvalidDataException e)
        {
            throw new InvalidInputException("malformed-multipart", "the multipart body is malformed: " + e.Message, e);
        }

        query = query.WithForm(form);
        var file = form.Files.GetFile("file")
            ?? throw new InvalidInputException("missing-file", "the multipart body needs a 'file' part holding a .npy or a GeoTIFF");
        if (file.Length == 0)
        {
            throw EmptyBody();
        }

        if (file.Length > limits.MaxBodyBytes || file.Length > Array.MaxLength)
        {
            throw TooLarge(limits);
        }

        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
        {
            await stream.ReadExactlyAsync(bytes, cancellationToken);
        }

        if (bytes.AsSpan().StartsWith(NpyMagic))
        {
            return (ReadNpy(bytes, limits), query);
        }

        if (LooksLikeTiff(bytes))
        {
            return (ReadTiff(bytes, limits), query);
        }

        throw new UnsupportedMediaTypeException(
            $"the file part '{file.FileName}' is neither a .npy nor a TIFF (recognised by their signatures)");
    }

    /// <summary>Buffers the body, refusing more than the configured limit whatever Content-Length said.</summary>
    public static async Task<byte[]> ReadBodyAsync(HttpRequest request, LimitsOptions limits, CancellationToken cancellationToken)
    {
        var limit = Math.Min(limits.MaxBodyBytes, Array.MaxLength);
        var body = request.Body;
        if (request.ContentLength is { } length)
        {
            if (length > limit)
            {
                throw TooLarge(limits);
            }

            var buffer = new byte[length];
            var read = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            return read == buffer.Length ? buffer : buffer[..read];
        }

        using var ms = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (ms.Length + n > limit)
            {
                throw TooLarge(limits);
            }

            ms.Write(chunk, 0, n);
        }

        return ms.ToArray();
    }

    private static int[] ReadShape(ref Utf8JsonReader reader)
    {
        Expect(reader.TokenType == JsonTokenType.StartArray, "\"shape\" must be an array of integers");
        var shape = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            Expect(reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var d) && d >= 0, "\"shape\" must hold non-negative integers");
            shape.Add(reader.GetInt32());
        }

        return [.. shape];
    }

    private static List<float> ReadData(ref Utf8JsonReader reader, int bodyLength)
    {
        Expect(reader.TokenType == JsonTokenType.StartArray, "\"data\" must be a flat array of numbers");

        // Each value takes at least two bytes ("0,"), which bounds the list without trusting "shape".
        var data = new List<float>(Math.Min(bodyLength / 2, 1 << 20));
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.Number:
                    data.Add(reader.GetSingle());
                    break;
                case JsonTokenType.Null:
                    data.Add(float.NaN);
                    break;
                default:
                    throw new InvalidInputException("malformed-json", "\"data\" must be a flat array of numbers (null for nodata)");
            }
        }

        return data;
    }

    private static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidInputException("malformed-json", message);
        }
    }

    public static bool LooksLikeTiff(ReadOnlySpan<byte> b) =>
        b.Length >= 4 && ((b[0] == 'I' && b[1] == 'I' && b[2] is 42 or 43 && b[3] == 0)
            || (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] is 42 or 43));

    public static void CheckPixels(long pixels, LimitsOptions limits)
    {
        if (pixels > limits.MaxPixels)
        {
            throw new InputTooLargeException($"the input has {pixels} pixels (height x width x dates), more than the limit of {limits.MaxPixels} (Limits:MaxPixels)");
        }
    }

    private static InputTooLargeException TooLarge(LimitsOptions limits) =>
        new($"the request body is larger than the limit of {limits.MaxBodyBytes} bytes (Limits:MaxBodyBytes)");

    public static InvalidInputException EmptyBody() =>
        new("empty-body", "the request body is empty: send a .npy, a GeoTIFF, JSON or a multipart form with a file");
}
