using System.ComponentModel.DataAnnotations;

namespace S2CloudMask.Api.Masks;

/// <summary>Section <c>Limits</c>: what one request may send; more is answered 413.</summary>
public sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>Largest request body in bytes (also Kestrel's MaxRequestBodySize); default 1 GiB.</summary>
    [Range(1, long.MaxValue)]
    public long MaxBodyBytes { get; set; } = 1L << 30;

    /// <summary>Most pixels one request may classify (height x width x dates).</summary>
    [Range(1, long.MaxValue)]
    public long MaxPixels { get; set; } = 200_000_000;
}
