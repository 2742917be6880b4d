using System.Diagnostics;
using System.Text;
using XdpGate.Bpf.Isa;
using Xunit;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Isa;

public class AssemblerTests
{
    /// <summary>Spellings the assembler reads besides the canonical one, and the canonical text they mean.</summary>
    [Theory]
    [InlineData("w1 = *(u8 *)(r6 + 12)", "r1 = *(u8 *)(r6 + 12)")]
    [InlineData("w1 = *(u32 *)(r2 + 2)", "r1 = *(u32 *)(r2 + 2)")]
    [InlineData("*(u32 *)(r10 - 4) = w1", "*(u32 *)(r10 - 4) = r1")]
    [InlineData("r1 = 1234605616436508552 ll", "r1 = 0x1122334455667788 ll")]
    [InlineData("r1 = -1 ll", "r1 = 0xffffffffffffffff ll")]
    [InlineData("r1 = -9223372036854775808 ll", "r1 = 0x8000000000000000 ll")]
    [InlineData("lock *(u32 *)(r1 + 0) += r2", "lock *(u32 *)(r1 + 0) += w2")]
    [InlineData("r2 = atomic_fetch_add((u32 *)(r1 + 0), r2)", "w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)")]
    [InlineData("r0 = 0x10", "r0 = 16")]
    [InlineData("r0 = 0xffffffff", "r0 = -1")]
    [InlineData("w0 = -0x7553310e", "w0 = -1968386318")]
    [InlineData("call 4294967291", "call -5")]
    [InlineData("goto +0x3 <LBB0_4>", "goto +3")]
    [InlineData("if r1 > 0x10 goto 3", "if r1 > 16 goto +3")]
    [InlineData("*(u32 *)(r10 - 0x4) = 0x7", "*(u32 *)(r10 - 4) = 7")]
    [InlineData("r1 = *(u64 *)(r10)", "r1 = *(u64 *)(r10 + 0)")]
    [InlineData("r0 = *(u16 *)skb[r3 + 0]", "r0 = *(u16 *)skb[r3]")]
    [InlineData("r1 = map_value_by_fd(5) ll", "r1 = map_value_by_fd(5, +0) ll")]
    [InlineData("r1 = btf_id(7, 0) ll", "r1 = btf_id(7) ll")]
    [InlineData("r0=1", "r0 = 1")]
    [InlineData("r0 s>>=r1", "r0 s>>= r1")]
    [InlineData("  r0 = 1   ; comment", "r0 = 1")]
    [InlineData("r0 = 1 # comment", "r0 = 1")]
    [InlineData("r0 = 1 // comment", "r0 = 1")]
    public void Alternative_spellings_assemble_to_the_canonical_instruction(string source, string canonical)
    {
        var insns = Assembler.Assemble(source);
        Assert.Equal(canonical, Disassembler.Format(insns, 0));
        Assert.Equal(Assembler.Assemble(canonical), insns);
    }

    [Fact]
    public void Blank_lines_comments_and_labels_take_no_slots()
    {
        var insns = Assembler.Assemble("""

            ; a comment
            # another
            // and another
            start:
              r0 = 0
            end: exit
            """);
        Assert.Equal([new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0), new bpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)], insns);
    }

    [Fact]
    public void Labels_resolve_to_offsets_relative_to_the_next_instruction()
    {
        var insns = Assembler.Assemble("""
                r1 = func(callee) ll      ; 0-1
            top:
                if r1 > 2 goto out        ; 2
                r1 += 1                   ; 3
                goto top                  ; 4
            out:
                call callee               ; 5
                gotol .Lend               ; 6
                r1 = 0x100000000 ll       ; 7-8
            .Lend:
                exit                      ; 9
            callee:
                r0 = 0                    ; 10
                exit                      ; 11
            """);
        Assert.Equal(12, insns.Length);
        Assert.Equal(9, insns[0].imm);  // 0 + 9 + 1 = 10
        Assert.Equal(2, insns[2].off);  // 2 + 2 + 1 = 5
        Assert.Equal(-3, insns[4].off); // 4 - 3 + 1 = 2
        Assert.Equal(4, insns[5].imm);  // 5 + 4 + 1 = 10
        Assert.Equal(BPF_PSEUDO_CALL, insns[5].src_reg);
        Assert.Equal(2, insns[6].imm);  // 6 + 2 + 1 = 9
        Assert.Equal("r1 = func(pc+9) ll", Disassembler.Format(insns, 0));
        Assert.Equal("call pc+4", Disassembler.Format(insns, 5));
    }

    [Theory]
    [InlineData("mov r0, 1", "line 1: unknown instruction 'mov' in 'mov r0, 1'")]
    [InlineData("r0 = 1\nr11 = 1", "line 2: bad register 'r11' (registers are r0 to r10) in 'r11 = 1'")]
    [InlineData("r0 = r11", "line 1: bad register 'r11' (registers are r0 to r10) in 'r0 = r11'")]
    [InlineData("r0 +=", "line 1: expected a register or a number after '+=' but found end of line in 'r0 +='")]
    [InlineData("r0 =", "line 1: expected a register, a number or an expression after '=' but found end of line in 'r0 ='")]
    [InlineData("if r1 > goto +1", "line 1: expected a register or a number after '>' but found 'goto' in 'if r1 > goto +1'")]
    [InlineData("if r1 > 2 +1", "line 1: expected 'goto' but found '+' in 'if r1 > 2 +1'")]
    [InlineData("goto +40000", "line 1: jump offset 40000 out of range (-32768 to 32767) in 'goto +40000'")]
    [InlineData("*(u32 *)(r10 - 32769) = r1", "line 1: memory offset -32769 out of range (-32768 to 32767) in '*(u32 *)(r10 - 32769) = r1'")]
    [InlineData("r0 = 4294967296", "line 1: immediate 4294967296 does not fit in 32 bits in 'r0 = 4294967296'")]
    [InlineData("r0 = 18446744073709551616 ll", "line 1: bad number '18446744073709551616' in 'r0 = 18446744073709551616 ll'")]
    [InlineData("w0 += r1", "line 1: 'r1' where a 32-bit w register is needed in 'w0 += r1'")]
    [InlineData("if w1 == r2 goto +1", "line 1: 'r2' where a 32-bit w register is needed in 'if w1 == r2 goto +1'")]
    [InlineData("w0 = 1 ll", "line 1: a 64-bit load ('ll') needs an r register in 'w0 = 1 ll'")]
    [InlineData("w1 = *(u64 *)(r1 + 0)", "line 1: a 64-bit load needs an r register in 'w1 = *(u64 *)(r1 + 0)'")]
    [InlineData("r1 = *(u128 *)(r1 + 0)", "line 1: expected a size (u8, u16, u32, u64, s8, s16, s32) but found 'u128' in 'r1 = *(u128 *)(r1 + 0)'")]
    [InlineData("*(u64 *)(w1 + 0) = r2", "line 1: 'w1' where a 64-bit r register is needed in '*(u64 *)(w1 + 0) = r2'")]
    [InlineData("lock *(u16 *)(r1 + 0) += r2", "line 1: atomic operations are u32 or u64, not u16 in 'lock *(u16 *)(r1 + 0) += r2'")]
    [InlineData("lock *(u64 *)(r1 + 0) -= r2", "line 1: expected an atomic operator (+=, |=, &=, ^=) but found '-=' in 'lock *(u64 *)(r1 + 0) -= r2'")]
    [InlineData("r2 = atomic_fetch_add((u64 *)(r1 + 0), r3)", "line 1: atomic_fetch_add needs 'r2' here, not 'r3' in 'r2 = atomic_fetch_add((u64 *)(r1 + 0), r3)'")]
    [InlineData("r1 = cmpxchg_64(r1 + 0, r0, r2)", "line 1: cmpxchg_64 always writes r0 in 'r1 = cmpxchg_64(r1 + 0, r0, r2)'")]
    [InlineData("r0 = be16 r1", "line 1: a byte swap is written 'rN = be16 rN' with one r register in 'r0 = be16 r1'")]
    [InlineData("r0 = -r1", "line 1: negation is written 'rN = -rN' with one register in 'r0 = -r1'")]
    [InlineData("w0 = (s32)w1", "line 1: expected a sign-extending cast (s8, s16) but found 's32' in 'w0 = (s32)w1'")]
    [InlineData("r1 = *(u8 *)skb[0]", "line 1: packet loads always write r0 in 'r1 = *(u8 *)skb[0]'")]
    [InlineData("r0 = foo(1) ll", "line 1: unknown operand 'foo' in 'r0 = foo(1) ll'")]
    [InlineData("r1 = map_by_fd(1)", "line 1: expected 'll' but found end of line in 'r1 = map_by_fd(1)'")]
    [InlineData("r0 = r1 + 1", "line 1: unexpected '+' after the instruction in 'r0 = r1 + 1'")]
    [InlineData("exit r0", "line 1: unexpected 'r0' after the instruction in 'exit r0'")]
    [InlineData("r0 = 1 $", "line 1: unexpected character '$' in 'r0 = 1 $'")]
    [InlineData("goto nowhere", "line 1: undefined label 'nowhere' in 'goto nowhere'")]
    [InlineData("a: exit\na: exit", "line 2: label 'a' defined twice in 'a: exit'")]
    [InlineData(".insn 0x100, 0, 0, 0, 0", "line 1: opcode 256 out of range (0 to 255) in '.insn 0x100, 0, 0, 0, 0'")]
    [InlineData("call", "line 1: expected a helper number, pc+N, kfunc(ID) or a label after 'call' but found end of line in 'call'")]
    public void Bad_input_is_refused_with_the_line_and_the_reason(string source, string message)
    {
        var error = Assert.Throws<BpfLoadException>(() => Assembler.Assemble(source));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_label_beyond_a_16_bit_offset_is_refused_for_goto_but_fine_for_gotol()
    {
        var body = string.Concat(Enumerable.Repeat("r0 = 0\n", 40_000));
        var error = Assert.Throws<BpfLoadException>(() => Assembler.Assemble($"goto far\n{body}far: exit"));
        Assert.Equal("line 1: label 'far' is 40000 instructions away, beyond a 16-bit jump offset (use gotol) in 'goto far'", error.Message);
        Assert.Equal(40_000, Assembler.Assemble($"gotol far\n{body}far: exit")[0].imm);
    }

    [Fact]
    public void A_large_program_assembles_in_linear_time()
    {
        // 200k instructions with a label and a jump each: a quadratic assembler would need minutes.
        var source = new StringBuilder();
        for (var i = 0; i < 100_000; i++)
            source.Append("L").Append(i).Append(": r1 += 1\nif r1 > 3 goto L").Append(Math.Max(0, i - 10)).Append('\n');
        var clock = Stopwatch.StartNew();
        var insns = Assembler.Assemble(source.ToString());
        Assert.Equal(200_000, insns.Length);
        Assert.Equal(-22, insns[^1].off);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }
}
