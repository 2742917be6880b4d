using BenchmarkDotNet.Attributes;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Firewall;

namespace XdpGate.Benchmarks;

/// <summary>
/// The same compiled firewall (firewall.o and the same map contents) in the running kernel, run by
/// BPF_PROG_TEST_RUN a hundred thousand times per syscall: the baseline for <see cref="FirewallBenchmarks"/>. Needs root.
/// </summary>
[MemoryDiagnoser]
public class FirewallKernelBenchmarks
{
    private const int Repeat = 100_000;
    private KernelFirewall firewall = null!;
    private byte[] miss = [];
    private byte[] last = [];

    [Params(10, 1000, 10000)]
    public int Rules { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (BpfSyscall.WhyUnavailable() is { } why)
            throw new InvalidOperationException($"the kernel baseline needs bpf(): {why}");
        firewall = KernelFirewall.Load(RuleCompiler.Compile(FirewallFixture.Policy(Rules)));
        miss = FirewallFixture.Miss(Rules);
        last = FirewallFixture.Last(Rules);
    }

    [Benchmark(OperationsPerInvoke = Repeat, Description = "kernel: no rule matches, default verdict (ns/packet)")]
    public uint NoMatch() => BpfSyscall.ProgTestRun(firewall.Program, miss, miss.Length + 256, repeat: Repeat).Retval;

    [Benchmark(OperationsPerInvoke = Repeat, Description = "kernel: the last rule matches (ns/packet)")]
    public uint LastRule() => BpfSyscall.ProgTestRun(firewall.Program, last, last.Length + 256, repeat: Repeat).Retval;

    [GlobalCleanup]
    public void Cleanup() => firewall?.Dispose();
}
