namespace S2CloudMask.Engine;

/// <summary>Marker for the engine assembly.</summary>
public static class EngineInfo
{
    public static string Version { get; } =
        typeof(EngineInfo).Assembly.GetName().Version?.ToString() ?? "0.0.0";
}
