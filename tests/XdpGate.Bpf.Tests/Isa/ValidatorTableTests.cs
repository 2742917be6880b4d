using Xunit;
using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Isa;

/// <summary>The load-time validator accepts exactly the encodings the RFC 9669 opcode table (data/isa) defines, less writes to r10.</summary>
public sealed class ValidatorTableTests
{
    [Fact]
    public void Every_encoding_in_the_rfc_table_is_accepted()
    {
        var random = new Random(9669);
        foreach (var row in IsaData.Opcodes)
        {
            foreach (var sample in IsaData.Samples(row, random, perCombination: 20))
            {
                if (IsKfuncCall(sample[0]) || (InstructionValidator.IsWide(sample[0]) && sample[0].src_reg == BPF_PSEUDO_BTF_ID))
                    continue; // valid encodings the validator refuses on purpose: they need kernel BTF
                var program = WithTargetsFixed(sample);
                var error = Record.Exception(() => InstructionValidator.Validate(program));
                if (WritesFramePointer(sample[0]))
                    Assert.Contains("read-only frame pointer", error?.Message, StringComparison.Ordinal);
                else
                    Assert.True(error is null, $"{row}: {IsaData.ToHex(sample)} refused: {error?.Message}");
            }
        }
    }

    [Fact]
    public void Encodings_outside_the_rfc_table_are_refused()
    {
        var random = new Random(7);
        var refused = 0;
        for (var n = 0; n < 200_000; n++)
        {
            var insn = new bpf_insn((byte)random.Next(256), random.Next(16), random.Next(16),
                (short)IsaData.RandomValue(random, 16), (int)IsaData.RandomValue(random, 32));
            if (InstructionValidator.IsWide(insn) || IsaData.Opcodes.Any(row => row.Matches(insn, null)))
                continue;
            Assert.ThrowsAny<BpfLoadException>(() => InstructionValidator.Validate([insn, Exit, Exit, Exit]));
            refused++;
        }
        Assert.True(refused > 100_000);
    }

    private static readonly bpf_insn Exit = new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

    /// <summary>r10 is read-only (RFC 9669 section 3): an encoding that would write it is refused, as the kernel does.</summary>
    private static bool WritesFramePointer(bpf_insn insn) =>
        insn.dst_reg == BPF_REG_FP && (Class(insn.code) is BPF_ALU or BPF_ALU64 or BPF_LDX || InstructionValidator.IsWide(insn));

    private static bool IsKfuncCall(bpf_insn insn) => insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == BPF_PSEUDO_KFUNC_CALL;

    /// <summary>The sample followed by three exits, its jump or call aimed inside the program so only its fields are judged.</summary>
    private static bpf_insn[] WithTargetsFixed(bpf_insn[] sample)
    {
        var program = sample.Concat([Exit, Exit, Exit]).ToArray();
        ref var first = ref program[0];
        var last = program.Length - 1;
        if (InstructionValidator.IsPseudoCall(first) || InstructionValidator.IsPseudoFunc(first))
            first.imm = last - 1 - (sample.Length - 1);
        else if (InstructionValidator.JumpTarget(first, 0) is not null)
        {
            if (Class(first.code) == BPF_JMP32 && Op(first.code) == BPF_JA)
                first.imm = 0;
            else
                first.off = 0;
        }
        return program;
    }
}
