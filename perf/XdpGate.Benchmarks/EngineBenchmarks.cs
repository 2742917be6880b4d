using BenchmarkDotNet.Attributes;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Benchmarks;

/// <summary>
/// ns per run of each engine on tests/data/programs/xdp_parse_count.s: a 37-slot XDP program that parses
/// Ethernet/IPv4/UDP with bounds checks and counts verdicts in a per-CPU array (35 instructions executed on the
/// UDP frame, one map lookup, which the JIT inlines), and on `r0 = 2; exit`, the fixed cost of a run. The JIT
/// checks only the accesses the verifier did not prove (here the context loads).
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private BpfVm vm = null!;
    private ProgramEntry program;
    private ProgramEntry trivial;
    private ArrayMap counters = null!;
    private PacketBuffer frame = null!;
    private XdpContext pristine;

    [Params(ExecutionEngine.Interpreter, ExecutionEngine.Jit)]
    public ExecutionEngine Engine { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        counters = new ArrayMap(ParseCountFixture.Counters, 2);
        var parseCount = BpfProgram.Load(ParseCountFixture.Instructions(), new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [counters] });
        var exit = BpfProgram.Load(Assembler.Assemble("r0 = 2\nexit"), new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP });
        Engine.Prepare(parseCount);
        Engine.Prepare(exit);
        vm = new BpfVm();
        program = Engine.Bind(parseCount, vm);
        trivial = Engine.Bind(exit, vm);
        frame = new PacketBuffer();
        frame.Reset(ParseCountFixture.Packet());
        pristine = frame.Context;
    }

    [Benchmark(Description = "parse Ethernet/IPv4/UDP + per-CPU count (ns/run)")]
    public xdp_action ParseAndCount()
    {
        var context = pristine;
        return program.RunXdp(ref context);
    }

    [Benchmark(Description = "r0 = 2; exit, the fixed cost of a run (ns/run)")]
    public xdp_action Trivial()
    {
        var context = pristine;
        return trivial.RunXdp(ref context);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        vm.Dispose();
        frame.Dispose();
        counters.Dispose();
    }
}
