using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using XdpGate.Testing.Programs;
using Xunit;
using Xunit.Abstractions;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>What verification costs: linear in straight-line branchy code, and bounded (refused, not hung) for a loop that never ends.</summary>
public sealed class VerifierCostTests(ITestOutputHelper output)
{
    [Fact]
    public void A_4000_instruction_branchy_program_is_verified_in_a_few_passes_over_it()
    {
        var insns = Assembler.Assemble(BranchyProgram.Source(4000));
        var program = BpfProgram.Load(insns, new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP });
        var result = program.Verification;
        output.WriteLine($"{insns.Length} insns: processed {result.InstructionsProcessed}, states {result.TotalStates}, {result.Elapsed.TotalMilliseconds:0.0} ms");
        Assert.InRange(result.InstructionsProcessed, insns.Length, 4 * insns.Length);
    }

    [Fact]
    public void A_loop_that_changes_state_forever_is_refused_at_the_complexity_limit()
    {
        var insns = Assembler.Assemble("r1 = 0\nloop:\nr1 += 1\nif r1 != 0 goto loop\nr0 = 2\nexit");
        var e = Assert.Throws<VerifierException>(() => BpfProgram.Load(insns, new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP }));
        Assert.Equal(VerifierRule.ComplexityLimit, e.Rule);
        Assert.Contains("BPF program is too large. Processed 1000001 insn", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_corpus_program_is_verified_in_fewer_than_100000_steps()
    {
        foreach (var file in Directory.GetFiles(TestPrograms.DataFile("programs"), "*.o"))
        {
            using var loaded = BpfObject.Open(file).Load();
            foreach (var (name, program) in loaded.Programs)
            {
                output.WriteLine($"{Path.GetFileName(file)} {name}: {program.Verification.InstructionsProcessed} insns processed, {program.Verification.Elapsed.TotalMilliseconds:0.00} ms");
                Assert.True(program.Verification.InstructionsProcessed < 100_000, $"{name}: {program.Verification.InstructionsProcessed} instructions processed");
            }
        }
    }
}
