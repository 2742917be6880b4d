using BenchmarkDotNet.Attributes;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using XdpGate.Linux.Bpf;
using XdpGate.Uapi;

namespace XdpGate.Benchmarks;

/// <summary>
/// Each atomic form (add, or, and, xor with and without BPF_FETCH, xchg, cmpxchg; 32 and 64 bits) alone: an XDP
/// program looks up value 0 of an array map and applies <see cref="Repeats"/> of that one instruction to it, on the
/// JIT and on the running kernel (its verifier and JIT, BPF_PROG_TEST_RUN with repeat, the baseline), in the same
/// run. ns per run; the ratio is JIT / kernel. The kernel rows need root (CAP_BPF); without it setup fails and says why.
/// </summary>
[MemoryDiagnoser]
public class AtomicBenchmarks
{
    private const int Runs = 1_000_000;
    private const int Repeats = 32;

    private static readonly MapDefinition Cells = new("cells", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 8, 1);
    private static readonly byte[] Packet = ParseCountFixture.Packet();

    private ArrayMap cells = null!;
    private BpfProgram program = null!;
    private BpfVm vm = null!;
    private ProgramEntry entry;
    private PacketBuffer frame = null!;
    private XdpContext pristine;
    private BpfMapFd kernelCells = null!;
    private BpfProgFd kernelProgram = null!;

    /// <summary>The forms, by name; each is 32 or 64 bits as its suffix says.</summary>
    public static IEnumerable<string> Forms() =>
        from op in new[] { "add", "fetch_add", "or", "fetch_or", "and", "fetch_and", "xor", "fetch_xor", "xchg", "cmpxchg" }
        from bits in new[] { "64", "32" }
        select op + bits;

    [ParamsSource(nameof(Forms))]
    public string Form { get; set; } = "";

    /// <summary>The instruction of a form, in our assembler's (LLVM's) syntax: on the value r1 points at, operand r2.</summary>
    private static string Instruction(string form)
    {
        var wide = form.EndsWith("64", StringComparison.Ordinal);
        var op = form[..^2];
        var (size, reg, w0) = wide ? ("u64", "r2", "r0") : ("u32", "w2", "w0");
        return op switch
        {
            "xchg" => wide ? "r2 = xchg_64(r1 + 0, r2)" : "w2 = xchg32_32(r1 + 0, w2)",
            "cmpxchg" => wide ? "r0 = cmpxchg_64(r1 + 0, r0, r2)" : "w0 = cmpxchg32_32(r1 + 0, w0, w2)",
            _ when op.StartsWith("fetch_", StringComparison.Ordinal) => $"{reg} = atomic_{op}(({size} *)(r1 + 0), {reg})",
            _ => $"lock *({size} *)(r1 + 0) {op switch { "add" => "+=", "or" => "|=", "and" => "&=", _ => "^=" }} {reg}",
        };
    }

    public static bpf_insn[] Program(string form) => Assembler.Assemble($"""
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map_by_idx(0) ll
        call 1
        if r0 == 0 goto out
        r1 = r0
        r2 = 1
        r0 = 0
        {string.Join('\n', Enumerable.Repeat(Instruction(form), Repeats))}
        out:
        r0 = 2
        exit
        """);

    [GlobalSetup]
    public void Setup()
    {
        if (BpfSyscall.WhyUnavailable() is { } why)
            throw new InvalidOperationException($"the kernel rows need bpf(): {why}");
        var instructions = Program(Form);
        kernelCells = BpfSyscall.MapCreate((uint)Cells.Type, Cells.KeySize, Cells.ValueSize, Cells.MaxEntries, Cells.Flags, Cells.Name);
        kernelProgram = BpfSyscall.ProgLoad((uint)bpf_prog_type.BPF_PROG_TYPE_XDP,
            bpf_insn.ToBytes(KernelRelocation.BindMapFds(instructions, [kernelCells.Fd])), name: Form);
        cells = new ArrayMap(Cells);
        program = BpfProgram.Load(instructions, new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [cells] });
        ExecutionEngine.Jit.Prepare(program);
        vm = new BpfVm();
        entry = ExecutionEngine.Jit.Bind(program, vm);
        frame = new PacketBuffer();
        frame.Reset(Packet);
        pristine = frame.Context;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Runs, Description = "kernel (ns/run)")]
    public uint Kernel() => BpfSyscall.ProgTestRun(kernelProgram, Packet, Packet.Length + 256, repeat: Runs).Retval;

    [Benchmark(OperationsPerInvoke = Runs, Description = "JIT (ns/run)")]
    public uint Jit() => RepeatedRuns.RunXdp(entry, pristine, Runs);

    [GlobalCleanup]
    public void Cleanup()
    {
        kernelProgram?.Dispose();
        kernelCells?.Dispose();
        cells?.Dispose();
        vm?.Dispose();
        frame?.Dispose();
    }
}
