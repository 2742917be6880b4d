using BenchmarkDotNet.Attributes;
using XdpGate.Bpf.Program;
using XdpGate.Linux.Bpf;

namespace XdpGate.Benchmarks;

/// <summary>
/// The rival, measured in the same run as <see cref="EngineBenchmarks"/>: the same instructions loaded into the
/// running kernel (its verifier and JIT) and run by BPF_PROG_TEST_RUN on the same frame, a million repetitions per
/// syscall so the syscall itself is amortised away. Needs root (CAP_BPF); without it setup fails and says why.
/// </summary>
[MemoryDiagnoser]
public class KernelBaselineBenchmarks
{
    private const int Repeat = 1_000_000;
    private BpfMapFd counters = null!;
    private BpfProgFd program = null!;
    private byte[] packet = [];

    [GlobalSetup]
    public void Setup()
    {
        if (BpfSyscall.WhyUnavailable() is { } why)
            throw new InvalidOperationException($"the kernel baseline needs bpf(): {why}");
        var d = ParseCountFixture.Counters;
        counters = BpfSyscall.MapCreate((uint)d.Type, d.KeySize, d.ValueSize, d.MaxEntries, d.Flags, d.Name);
        var instructions = KernelRelocation.BindMapFds(ParseCountFixture.Instructions(), [counters.Fd]);
        program = BpfSyscall.ProgLoad((uint)bpf_prog_type.BPF_PROG_TYPE_XDP, Bpf.Isa.bpf_insn.ToBytes(instructions), name: "parse_count");
        packet = ParseCountFixture.Packet();
    }

    [Benchmark(OperationsPerInvoke = Repeat, Description = "kernel JIT (BPF_PROG_TEST_RUN): parse Ethernet/IPv4/UDP + per-CPU count (ns/run)")]
    public uint ParseAndCount() => BpfSyscall.ProgTestRun(program, packet, packet.Length + 256, repeat: Repeat).Retval;

    [GlobalCleanup]
    public void Cleanup()
    {
        program?.Dispose();
        counters?.Dispose();
    }
}
