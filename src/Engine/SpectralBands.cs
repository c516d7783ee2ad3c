namespace S2CloudMask.Engine;

/// <summary>The ten Sentinel-2 bands the s2cloudmask models use, in their canonical order.</summary>
public static class SpectralBands
{
    public static IReadOnlyList<string> Names { get; } =
        ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"];

    public static int Count => 10;

    /// <summary>Index of a band name in <see cref="Names"/>, or -1.</summary>
    public static int IndexOf(string name)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }
}
