using BenchmarkDotNet.Attributes;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using XdpGate.Testing.Programs;

namespace XdpGate.Benchmarks;

/// <summary>
/// Time to verify: every program of the corpus's largest object (xdp_helper_probe.o, 666 instructions in eight
/// programs), the program that makes the verifier work hardest (xdp_ipv6_exthdr's extension-header loop), and a
/// generated 4,000-instruction program of straight-line branchy code (<see cref="BranchyProgram"/>). Goal: under 50 ms.
/// Each call runs the exploration itself (<c>Exploration.Verify</c>, what <see cref="BpfVerifier.Verify"/> does when
/// its per-process verdict cache misses), so no iteration measures a cache hit.
/// </summary>
[MemoryDiagnoser]
public class VerifierBenchmarks
{
    private LoadedObject probe = null!;
    private LoadedObject exthdr = null!;
    private BpfProgram branchy = null!;

    [GlobalSetup]
    public void Setup()
    {
        probe = Open("xdp_helper_probe.o");
        exthdr = Open("xdp_ipv6_exthdr.o");
        branchy = BpfProgram.Load(Assembler.Assemble(BranchyProgram.Source(4000)),
            new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Verification = VerificationLevel.None });
    }

    private static LoadedObject Open(string file) =>
        BpfObject.Open(Path.Combine(AppContext.BaseDirectory, "data", "programs", file)).Load(verification: VerificationLevel.None);

    [Benchmark(Description = "verify xdp_helper_probe.o, all programs (largest object)")]
    public int LargestObject()
    {
        var processed = 0;
        foreach (var program in probe.Programs.Values)
            processed += Exploration.Verify(program, VerificationLevel.Privileged, verbose: false).InstructionsProcessed;
        return processed;
    }

    [Benchmark(Description = "verify xdp_ipv6_exthdr.o (bounded loop)")]
    public int LoopingObject()
    {
        var processed = 0;
        foreach (var program in exthdr.Programs.Values)
            processed += Exploration.Verify(program, VerificationLevel.Privileged, verbose: false).InstructionsProcessed;
        return processed;
    }

    [Benchmark(Description = "verify a generated 4,000-instruction branchy program")]
    public int Branchy4000() => Exploration.Verify(branchy, VerificationLevel.Privileged, verbose: false).InstructionsProcessed;

    [GlobalCleanup]
    public void Cleanup()
    {
        probe.Dispose();
        exthdr.Dispose();
    }
}
