using BenchmarkDotNet.Attributes;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.Synthetic;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;

namespace XdpGate.Benchmarks;

/// <summary>
/// The whole in-process path of one worker, per frame: a synthetic queue builds a 60-byte UDP frame in a ring
/// buffer, the worker runs the program on it in place, counts it and carries out the verdict (the frame goes back
/// to the ring). No sockets: this is the ceiling the dataplane puts on a core. ns per frame; Mpps = 1000 / ns.
/// Programs: `r0 = XDP_DROP; exit`, and tests/data/programs/xdp_parse_count.s (parse Ethernet/IPv4/UDP, count in
/// a per-CPU array, XDP_PASS to the port's host stand-in).
/// </summary>
[MemoryDiagnoser]
public class DataplaneBenchmarks
{
    private const int Batch = 64;
    private SyntheticPort port = null!;
    private Worker worker = null!;
    private ArrayMap counters = null!;

    [Params(ExecutionEngine.Interpreter, ExecutionEngine.Jit)]
    public ExecutionEngine Engine { get; set; }

    [Params("drop", "parse-count")]
    public string Program { get; set; } = "drop";

    [GlobalSetup]
    public void Setup()
    {
        counters = new ArrayMap(ParseCountFixture.Counters, 1);
        var program = Program == "drop"
            ? BpfProgram.Load(Assembler.Assemble("r0 = 1\nexit"), new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP })
            : BpfProgram.Load(ParseCountFixture.Instructions(), new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [counters] });
        port = new SyntheticPort("syn0", 1, new SyntheticTraffic { Size = 60 }, new PortOptions());
        worker = new Worker(0, program, [new WorkerPort(port, 0, DiscardSink.Instance, new QueueCounters())], new WorkerOptions { Engine = Engine, BatchSize = Batch });
    }

    [Benchmark(Description = "one frame from ring to verdict (ns/frame)", OperationsPerInvoke = Batch)]
    public int Frame() => worker.Poll();

    [GlobalCleanup]
    public void Cleanup()
    {
        worker.Dispose();
        port.Dispose();
        counters.Dispose();
    }
}
