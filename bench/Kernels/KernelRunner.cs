using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace S2CloudMask.Bench.Kernels;

/// <summary>Runs the kernel benchmarks of this assembly through BenchmarkDotNet's switcher.</summary>
internal static class KernelRunner
{
    public static int Run(string[] args)
    {
        // Without a filter the switcher asks interactively; a script wants everything.
        if (!args.Any(a => a.StartsWith("--filter", StringComparison.Ordinal) || a == "-f" || a.StartsWith("--list", StringComparison.Ordinal)))
        {
            args = [.. args, "--filter", "*"];
        }

        var config = DefaultConfig.Instance
            .WithArtifactsPath(Path.Combine(SharedData.RepositoryRoot, "bench", "BenchmarkDotNet.Artifacts"))
            .WithOptions(ConfigOptions.JoinSummary)
            .AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(KernelRunner).Assembly).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}

/// <summary>
/// A short job, run in process: a few minutes for the whole suite, and no generated
/// project to build beside the others building on this machine.
/// </summary>
public sealed class KernelConfig : ManualConfig
{
    public KernelConfig()
    {
        AddJob(Job.Default
            .WithWarmupCount(2)
            .WithIterationCount(5)
            .WithLaunchCount(1)
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("short-inprocess"));
        AddDiagnoser(MemoryDiagnoser.Default);

        // One summary for the whole run, with each kernel's ratio against its own baseline:
        // every benchmark class carries a category, and ratios are taken within it.
        AddColumn(CategoriesColumn.Default);
    }
}
