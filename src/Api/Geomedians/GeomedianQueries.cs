using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;

namespace S2CloudMask.Api.Geomedians;

/// <summary>Options of PUT and POST /geomedians/{tileId}: how the body's values become reflectance.</summary>
public sealed record GeomedianQuery(
    [FromQuery(Name = "scale")]
    [Description("Reflectance = (value + offset) x scale. Default: 1 for float input (taken as reflectance), 0.0001 for integer input (DN). The Wright stack is float32 DN: pass 0.0001.")]
    double? Scale = null,

    [FromQuery(Name = "offset")]
    [Description("Added to each value before scaling; -1000 for Sentinel-2 processing baseline 04.00 and later. Default 0.")]
    double? Offset = null,

    [FromQuery(Name = "nodata")]
    [Description("Stored value marking a pixel as nodata (in any band); such dates are left out of the geomedian per pixel. Default: the GeoTIFF's nodata tag, else 0 for integers and NaN for floats.")]
    double? Nodata = null,

    [FromQuery(Name = "time")]
    [Description("POST with a GeoTIFF only: the number of dates; the TIFF then holds 10 x time bands, date by date (bands 1-10 the first date's B02..B12, 11-20 the second's, ...).")]
    int? Time = null);

/// <summary>Options of GET /geomedians/{tileId}.</summary>
public sealed record GeomedianDownloadQuery(
    [FromQuery(Name = "format")]
    [Description("geotiff (float32 reflectance, ten bands, NaN nodata, georeferenced when known) or npy ((y, x, band) float32). When absent, chosen from the Accept header; GeoTIFF otherwise.")]
    [AllowedValues("geotiff", "npy")]
    string? Format = null);

/// <summary>Options of GET /geomedians.</summary>
public sealed record GeomedianListQuery(
    [FromQuery(Name = "verify")]
    [Description("Check every entry's SHA-256 (reads every file); by default only headers and lengths are checked.")]
    [DefaultValue(false)]
    bool Verify = false);

/// <summary>A cached geomedian as listings and summaries describe it.</summary>
/// <param name="TileId">The tile ID.</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
/// <param name="Bands">Bands (B02..B12).</param>
/// <param name="Bytes">Bytes of pixels (float32).</param>
/// <param name="GeoTransform">GDAL geotransform, when georeferenced.</param>
/// <param name="Crs">"EPSG:32631", when georeferenced with an authority code.</param>
/// <param name="Bbox">[minx, miny, maxx, maxy] in the CRS, when georeferenced.</param>
/// <param name="CreatedUtc">When it was stored.</param>
/// <param name="LastUsedUtc">When a request last used it.</param>
/// <param name="Source">put, post, mask or remote.</param>
/// <param name="Summary">Dates, iterations and time of the computation, for computed ones.</param>
/// <param name="InMemory">Held in this replica's memory now.</param>
/// <param name="Checksum">SHA-256 of the stored file.</param>
public sealed record GeomedianInfo(
    string TileId,
    int Height,
    int Width,
    int Bands,
    long Bytes,
    double[]? GeoTransform,
    string? Crs,
    double[]? Bbox,
    DateTimeOffset CreatedUtc,
    DateTimeOffset? LastUsedUtc,
    string Source,
    GeomedianSummary? Summary,
    bool InMemory,
    string? Checksum);

/// <summary>GET /geomedians: the entries, and those found corrupt and dropped.</summary>
public sealed record GeomedianList(string Backend, long MemoryBytes, IReadOnlyList<GeomedianInfo> Geomedians, IReadOnlyCollection<DroppedGeomedian> Dropped);
