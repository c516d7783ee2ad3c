using Microsoft.Extensions.Options;
using S2CloudMask.Engine.Classification;

namespace S2CloudMask.Api.Classification;

/// <summary>
/// Bounds the work in flight. A request is admitted (before its body is read) only while
/// fewer than Workers + QueueLength requests are in flight, so memory for bodies and results
/// stays bounded; an admitted request then waits for one of Workers slots to classify. A
/// request that cannot be admitted gets 503 with Retry-After at once instead of piling up.
/// </summary>
public sealed class ClassifierPool : IDisposable
{
    private readonly SemaphoreSlim _workers;
    private readonly int _capacity;
    private readonly int _threadsPerClassification;
    private readonly int _retryAfterSeconds;
    private int _admitted;
    private int _running;

    public ClassifierPool(IOptions<EngineOptions> options)
    {
        var o = options.Value;
        Workers = o.EffectiveWorkers;
        _workers = new SemaphoreSlim(Workers, Workers);
        _capacity = Workers + o.QueueLength;
        _threadsPerClassification = o.ThreadsPerClassification;
        _retryAfterSeconds = o.RetryAfterSeconds;
    }

    public int Workers { get; }

    /// <summary>Requests admitted and not yet finished (running or waiting).</summary>
    public int Admitted => Volatile.Read(ref _admitted);

    public int Running => Volatile.Read(ref _running);

    /// <summary>Admits one request or throws <see cref="ServiceBusyException"/>; dispose the admission when the response is done.</summary>
    public Admission Admit()
    {
        if (Interlocked.Increment(ref _admitted) > _capacity)
        {
            Interlocked.Decrement(ref _admitted);
            throw new ServiceBusyException(_retryAfterSeconds);
        }

        return new Admission(this);
    }

    /// <summary>Runs a classification on a worker slot, off the request thread.</summary>
    public async Task<T> RunAsync<T>(Func<ClassifyOptions, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        await _workers.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var running = Interlocked.Increment(ref _running);

            // Alone, one classification uses every core; under load each gets its share, so
            // Workers x threads never oversubscribes the machine by much.
            var threads = _threadsPerClassification > 0
                ? _threadsPerClassification
                : Math.Max(1, Environment.ProcessorCount / running);
            var options = new ClassifyOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
            return await Task.Run(() => work(options), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            _workers.Release();
        }
    }

    public void Dispose() => _workers.Dispose();

    public sealed class Admission : IDisposable
    {
        private ClassifierPool? _pool;

        internal Admission(ClassifierPool pool) => _pool = pool;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _pool, null) is { } pool)
            {
                Interlocked.Decrement(ref pool._admitted);
            }
        }
    }
}
