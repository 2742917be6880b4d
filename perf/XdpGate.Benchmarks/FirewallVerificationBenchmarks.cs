using System.Globalization;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Firewall;

namespace XdpGate.Benchmarks;

/// <summary>
/// Verifying the built-in firewall loaded with 10, 1,000 and 10,000 rules (<see cref="FirewallFixture"/>), by our
/// verifier and by the running kernel's, in one run. Ours calls <c>Exploration.Verify</c>, which is what
/// <see cref="BpfVerifier.Verify"/> runs when its per-process verdict cache misses, so no iteration is a cache hit.
/// The kernel's is BPF_PROG_LOAD of the same instructions over kernel maps holding the same rules, at BPF_LOG_STATS,
/// timed whole (the kernel also JIT-compiles). The columns give the instructions each verifier processed and the
/// kernel's own "verification time" from its log (the fastest and the median of 51 loads: other work on the machine
/// only adds to it), both taken in the host process once the runs are done. Needs root for the kernel rows.
/// </summary>
[Config(typeof(VerificationColumns))]
public partial class FirewallVerificationBenchmarks
{
    private const uint BPF_LOG_STATS = 4;

    private LoadedObject? loaded;
    private BpfProgram program = null!;
    private KernelFirewall? kernel;

    [Params(10, 1000, 10000)]
    public int Rules { get; set; }

    [GlobalSetup(Target = nameof(Ours))]
    public void SetupOurs() => (loaded, program) = Ours(Rules);

    [GlobalSetup(Target = nameof(Kernel))]
    public void SetupKernel() => kernel = KernelLoad(Rules);

    [Benchmark(Description = "ours: verify the firewall (time per verification)")]
    public int Ours() => Exploration.Verify(program, VerificationLevel.Privileged, verbose: false).InstructionsProcessed;

    [Benchmark(Description = "kernel: BPF_PROG_LOAD of the firewall at BPF_LOG_STATS (time per load)")]
    public int Kernel()
    {
        using var fd = kernel!.LoadProgram(BPF_LOG_STATS);
        return fd.Fd;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        loaded?.Dispose();
        kernel?.Dispose();
    }

    private static (LoadedObject, BpfProgram) Ours(int rules)
    {
        var loaded = FirewallBuiltin.Load(RuleCompiler.Compile(FirewallFixture.Policy(rules)), possibleCpus: 1);
        return (loaded, loaded.Programs[FirewallMaps.Program]);
    }

    private static KernelFirewall KernelLoad(int rules)
    {
        if (BpfSyscall.WhyUnavailable() is { } why)
            throw new InvalidOperationException($"the kernel's verifier needs bpf(): {why}");
        return KernelFirewall.Load(RuleCompiler.Compile(FirewallFixture.Policy(rules)));
    }

    /// <summary>What verification reported: processed instructions, and the kernel's own verification times (fastest, median).</summary>
    private sealed record Figures(int Processed, (double Fastest, double Median)? KernelMicroseconds);

    private static readonly Dictionary<(bool Kernel, int Rules), Figures> Measured = [];

    private static Figures Measure(bool inKernel, int rules)
    {
        lock (Measured)
        {
            if (Measured.TryGetValue((inKernel, rules), out var known))
                return known;
            Figures figures;
            if (inKernel)
            {
                using var firewall = KernelLoad(rules);
                var runs = Enumerable.Range(0, 51).Select(_ =>
                {
                    using var fd = firewall.LoadProgram(BPF_LOG_STATS);
                    return KernelStats(fd.VerifierLog);
                }).ToList();
                var times = runs.Select(r => r.Microseconds).Order().ToList();
                figures = new Figures(runs[0].Processed, (times[0], times[times.Count / 2]));
            }
            else
            {
                var (ours, program) = Ours(rules);
                using (ours)
                    figures = new Figures(Exploration.Verify(program, VerificationLevel.Privileged, verbose: false).InstructionsProcessed, null);
            }
            Measured[(inKernel, rules)] = figures;
            return figures;
        }
    }

    /// <summary>The totals a BPF_LOG_STATS log ends with: "verification time N usec" and "processed N insns".</summary>
    private static (int Processed, double Microseconds) KernelStats(string log)
    {
        var processed = ProcessedLine().Match(log);
        var time = TimeLine().Match(log);
        if (!processed.Success || !time.Success)
            throw new InvalidOperationException($"the kernel's BPF_LOG_STATS log lacks its totals: {log}");
        return (int.Parse(processed.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(time.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"processed (\d+) insns")]
    private static partial Regex ProcessedLine();

    [GeneratedRegex(@"verification time (\d+) usec")]
    private static partial Regex TimeLine();

    private sealed class VerificationColumns : ManualConfig
    {
        public VerificationColumns() => AddColumn(
            new FigureColumn("Processed insns", "instructions the verifier processed", f => f.Processed.ToString("N0", CultureInfo.InvariantCulture)),
            new FigureColumn("Kernel verification", "the kernel's own verification time (its log): fastest / median of 51 loads",
                f => f.KernelMicroseconds is { } us ? $"{us.Fastest / 1000:F1} / {us.Median / 1000:F1} ms" : "-"));
    }

    private sealed class FigureColumn(string name, string legend, Func<Figures, string> show) : IColumn
    {
        public string Id => name;
        public string ColumnName => name;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => legend;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
            show(Measure(benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(Kernel), (int)benchmarkCase.Parameters[nameof(Rules)]!));

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;
    }
}
