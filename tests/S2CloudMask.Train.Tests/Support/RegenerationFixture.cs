using S2CloudMask.Train.Tests.Support;

namespace S2CloudMask.Train.Tests;

/// <summary>
/// Regenerates every shipped model once, into a temporary folder, for all the tests that look
/// at the result (byte comparison with the committed files, parity, metrics).
/// </summary>
public sealed class RegenerationFixture : IDisposable
{
    private readonly Lazy<Regeneration> _result;

    public RegenerationFixture()
    {
        OutDir = Path.Combine(Path.GetTempPath(), "s2cloudmask-train-" + Guid.NewGuid().ToString("N"));
        _result = new Lazy<Regeneration>(() =>
        {
            SharedData.Require();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var log = new StringWriter();
            var r = Trainer.Regenerate(SharedData.Root, OutDir, log);
            Elapsed = watch.Elapsed;
            Log = log.ToString();
            return r;
        });
    }

    public string OutDir { get; }

    public TimeSpan Elapsed { get; private set; }

    public string Log { get; private set; } = "";

    public Regeneration Result => _result.Value;

    public void Dispose()
    {
        if (Directory.Exists(OutDir))
        {
            Directory.Delete(OutDir, recursive: true);
        }
    }
}
