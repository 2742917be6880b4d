using BenchmarkDotNet.Attributes;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Benchmarks;

/// <summary>ns per packet of the built-in firewall in our JIT against the rule count (rules and frames: <see cref="FirewallFixture"/>).</summary>
[MemoryDiagnoser]
public class FirewallBenchmarks
{
    private LoadedObject loaded = null!;
    private BpfProgram program = null!;
    private BpfVm vm = null!;
    private ProgramEntry entry;
    private PacketBuffer miss = null!;
    private PacketBuffer last = null!;

    [Params(10, 1000, 10000)]
    public int Rules { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        loaded = FirewallBuiltin.Load(RuleCompiler.Compile(FirewallFixture.Policy(Rules)), possibleCpus: 1);
        program = loaded.Programs[FirewallMaps.Program];
        ExecutionEngine.Jit.Prepare(program);
        vm = new BpfVm();
        entry = ExecutionEngine.Jit.Bind(program, vm);
        miss = new PacketBuffer();
        miss.Reset(FirewallFixture.Miss(Rules));
        last = new PacketBuffer();
        last.Reset(FirewallFixture.Last(Rules));
    }

    [Benchmark(Description = "JIT: no rule matches, default verdict (ns/packet)")]
    public xdp_action NoMatch() => entry.RunXdp(ref miss.Context);

    [Benchmark(Description = "JIT: the last rule matches (ns/packet)")]
    public xdp_action LastRule() => entry.RunXdp(ref last.Context);

    [GlobalCleanup]
    public void Cleanup()
    {
        vm.Dispose();
        miss.Dispose();
        last.Dispose();
        loaded.Dispose();
    }
}
