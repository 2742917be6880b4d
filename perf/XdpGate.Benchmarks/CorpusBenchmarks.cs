using BenchmarkDotNet.Attributes;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using XdpGate.Linux;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Fixtures;
using XdpGate.Testing.Kernel;

namespace XdpGate.Benchmarks;

/// <summary>
/// Every program fixture in tests/data/programs on its first frame (NAME.packets, maps from NAME.maps.json), on the
/// interpreter, the JIT and the running kernel (its verifier and JIT, BPF_PROG_TEST_RUN with repeat), all set up by
/// the same <see cref="ObjectFixture"/> code: ns per run; the kernel ratio is JIT mean / kernel mean of one fixture.
/// Each invocation is <see cref="Runs"/> runs (one syscall for the kernel, as KernelBaselineBenchmarks does). The frame's
/// pointers are restored before every engine run, its bytes are not: the kernel's repeat does not restore them
/// either. Takes about ten minutes. The kernel rows need root (CAP_BPF); without it their setup fails and says why.
/// </summary>
[MemoryDiagnoser]
public class CorpusBenchmarks
{
    // A million: each repeated test run switches the kernel's XDP dispatcher to the program and back (an RCU grace
    // period, milliseconds), which 10,000 runs would still show as microseconds per run.
    private const int Runs = 1_000_000;
    private static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "data", "programs");

    private EngineObjectLoad? engine;
    private KernelObjectLoad? kernel;
    private BpfVm vm = null!;
    private PacketBuffer frame = null!;
    private BpfProgram program = null!;
    private ProgramEntry entry;
    private XdpContext pristine;
    private string programName = "";
    private byte[] packet = [];

    public static IEnumerable<string> Fixtures() => ObjectFixture.Names(Directory);

    [ParamsSource(nameof(Fixtures))]
    public string Fixture { get; set; } = "";

    [Params("interp", "jit", "kernel")]
    public string Engine { get; set; } = "jit";

    [GlobalSetup]
    public void Setup()
    {
        var fixture = new ObjectFixture(Directory, Fixture);
        (programName, packet) = fixture.Frames().First();
        var definitions = fixture.Object.Maps.Select(m => m.Definition).ToList();
        vm = new BpfVm(processorId: 0);
        frame = new PacketBuffer();
        if (Engine == "kernel")
        {
            if (BpfSyscall.WhyUnavailable() is { } why)
                throw new InvalidOperationException($"the kernel rows need bpf(): {why}");
            kernel = new KernelObjectLoad(definitions);
            fixture.Prepare(kernel, PossibleCpus.Count);
            return;
        }
        var executionEngine = ExecutionEngines.Parse(Engine);
        engine = new EngineObjectLoad(definitions, PossibleCpus.Count);
        fixture.Prepare(engine, PossibleCpus.Count);
        program = engine.Program(programName);
        executionEngine.Prepare(program);
        entry = executionEngine.Bind(program, vm);
        frame.Reset(packet);
        pristine = frame.Context;
    }

    [Benchmark(OperationsPerInvoke = Runs, Description = "first frame of the fixture (ns/run)")]
    public uint Run()
    {
        if (kernel is not null)
            return BpfSyscall.ProgTestRun(kernel.ProgramFd(programName), packet, packet.Length + 256, repeat: Runs).Retval;
        return RepeatedRuns.RunXdp(entry, pristine, Runs);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        kernel?.Dispose();
        engine?.Dispose();
        vm.Dispose();
        frame.Dispose();
    }
}
