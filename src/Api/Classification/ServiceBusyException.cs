namespace S2CloudMask.Api.Classification;

/// <summary>Every worker is busy and the queue is full: 503 with Retry-After.</summary>
public sealed class ServiceBusyException(int retryAfterSeconds)
    : Exception($"all classification workers are busy and the queue is full; retry in {retryAfterSeconds} s")
{
    public int RetryAfterSeconds { get; } = retryAfterSeconds;
}
