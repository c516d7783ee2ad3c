using System.Text.RegularExpressions;
using S2CloudMask.Engine;

namespace S2CloudMask.Api.Geomedians;

/// <summary>
/// Tile IDs name cache files and Redis keys, so only a closed alphabet is accepted: an MGRS
/// tile (55HFA) or any [A-Za-z0-9_-]{1,64}. No dot, slash or backslash can get through, so an
/// ID can never name a path outside the cache folder.
/// </summary>
public static partial class TileIds
{
    public const string Pattern = "^[A-Za-z0-9_-]{1,64}$";

    public static bool IsValid(string? tileId) => tileId is not null && Valid().IsMatch(tileId);

    /// <summary>The ID itself, or 400 "bad-tile-id".</summary>
    public static string Validate(string? tileId) =>
        IsValid(tileId)
            ? tileId!
            : throw new InvalidInputException(
                "bad-tile-id",
                $"tileId must be 1 to 64 letters, digits, '_' or '-' (e.g. an MGRS tile such as 55HFA), got '{Shorten(tileId)}'");

    private static string Shorten(string? s) => s is null ? "" : s.Length <= 80 ? s : s[..80] + "...";

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Valid();
}
