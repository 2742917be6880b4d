using BenchmarkDotNet.Attributes;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Jit;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Benchmarks;

/// <summary>
/// ns per run of the JIT on the same program and packet as <see cref="InterpreterBenchmarks"/>
/// (tests/data/programs/xdp_parse_count.s on an Ethernet/IPv4/UDP frame), every memory access still checked.
/// </summary>
[MemoryDiagnoser]
public class JitBenchmarks
{
    private BpfVm vm = null!;
    private JitProgram program = null!;
    private JitProgram trivial = null!;
    private ArrayMap counters = null!;
    private PacketBuffer frame = null!;
    private XdpContext pristine;

    [GlobalSetup]
    public void Setup()
    {
        counters = new ArrayMap(new MapDefinition("counters", bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4), 2);
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "programs", "xdp_parse_count.s"));
        var loaded = BpfProgram.Load(Assembler.Assemble(text), new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [counters] });
        program = JitCompiler.Compile(loaded);
        trivial = JitCompiler.Compile(BpfProgram.Load(Assembler.Assemble("r0 = 2\nexit"), new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP }));
        vm = new BpfVm();
        frame = new PacketBuffer();
        var packet = new byte[60];
        packet[12] = 0x08; packet[14] = 0x45; packet[23] = 17; packet[36] = 0x1f; packet[37] = 0x90;
        frame.Reset(packet);
        pristine = frame.Context;
    }

    [Benchmark(Description = "JIT: parse Ethernet/IPv4/UDP + per-CPU count (ns/run)")]
    public xdp_action ParseAndCount()
    {
        var context = pristine;
        return program.RunXdp(vm, ref context);
    }

    [Benchmark(Description = "JIT: r0 = 2; exit, the fixed cost of a run (ns/run)")]
    public xdp_action Trivial()
    {
        var context = pristine;
        return trivial.RunXdp(vm, ref context);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        vm.Dispose();
        frame.Dispose();
        counters.Dispose();
    }
}
