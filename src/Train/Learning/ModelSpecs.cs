namespace S2CloudMask.Train.Learning;

/// <summary>The three models the service ships, as the trainer builds them.</summary>
public static class ModelSpecs
{
    /// <summary>
    /// The feature expressions of the published s2cloudmask spectral model, in its column
    /// order (facts of the s2cloudmask repository; the trees trained on them are ours).
    /// </summary>
    public static IReadOnlyList<string> SpectralFeatures { get; } =
    [
        "B04*log(B12)", "(B04-B11)/(B04+B11)", "B05*log(B12)", "(B05-B11)/(B05+B11)", "B05*log(B11)",
        "B04*log(B11)", "B03*log(B12)", "B03*log(B11)", "B02*log(B12)",
    ];

    /// <summary>
    /// Features against the geomedian of the same place: thin cloud over dark vegetation is
    /// not bright in absolute terms, but far brighter than that place's geomedian in the
    /// visible and red-edge bands, which these differences and ratios show directly.
    /// </summary>
    public static IReadOnlyList<string> TemporalExtraFeatures { get; } =
    [
        "braycurtis(obs, ref)",
        "nldr(obs, ref, B02, B04)", "nldr(obs, ref, B02, B12)", "nldr(obs, ref, B02, B03)", "nldr(obs, ref, B03, B04)",
        "nldr(obs, ref, B03, B12)", "nldr(obs, ref, B04, B05)", "nldr(obs, ref, B03, B05)",
        "B02 - ref.B02", "B03 - ref.B03", "B04 - ref.B04", "B05 - ref.B05", "B06 - ref.B06", "B07 - ref.B07",
        "B08 - ref.B08", "B11 - ref.B11", "B12 - ref.B12",
        "B02 / ref.B02", "B03 / ref.B03", "B04 / ref.B04", "B05 / ref.B05", "B08 / ref.B08",
    ];

    public static ModelSpec Spectral { get; } = new()
    {
        Name = "spectral",
        Description = "Cloud mask from one image: boosted trees (ML.NET FastTree) on the published spectral features, 3x3 opening.",
        Features = SpectralFeatures,
        Trees = 100,
        Leaves = 16,
        LearningRate = 0.2,
        Opening = 3,
    };

    public static ModelSpec Fast { get; } = new()
    {
        Name = "fast",
        Description = "Cloud mask from one image: a single tree (depth <= 11) on the published spectral features, 3x3 opening.",
        Features = SpectralFeatures,
        Trees = 1,
        Leaves = 64,
        MaxDepth = 11,
        LearningRate = 1.0,
        Opening = 3,
    };

    public static ModelSpec Temporal { get; } = new()
    {
        Name = "temporal",
        Description = "Cloud mask against the geomedian of the same place (spectral-temporal): boosted trees on the spectral features plus differences, ratios, Bray-Curtis and NLDR against the reference; needs a reference image.",
        Features = [.. SpectralFeatures, .. TemporalExtraFeatures],
        Trees = 100,
        Leaves = 16,
        LearningRate = 0.2,
        Opening = 0,
    };

    public static IReadOnlyList<ModelSpec> All { get; } = [Spectral, Fast, Temporal];
}
