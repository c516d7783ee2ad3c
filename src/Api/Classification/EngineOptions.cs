using System.ComponentModel.DataAnnotations;

namespace S2CloudMask.Api.Classification;

/// <summary>Section <c>Engine</c>: how many classifications run at once and how many may wait.</summary>
public sealed class EngineOptions
{
    public const string Section = "Engine";

    /// <summary>Classifications running at once; 0 means one per processor.</summary>
    [Range(0, 4096)]
    public int Workers { get; set; }

    /// <summary>Requests admitted beyond <see cref="Workers"/> that wait for a worker; more get 503.</summary>
    [Range(0, 100_000)]
    public int QueueLength { get; set; } = 16;

    /// <summary>Threads one classification may use; 0 shares the processors among the running ones.</summary>
    [Range(0, 4096)]
    public int ThreadsPerClassification { get; set; }

    /// <summary>The Retry-After a busy answer (503) carries.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 2;

    public int EffectiveWorkers => Workers > 0 ? Workers : Environment.ProcessorCount;
}
