using System.Text;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Isa;

/// <summary>
/// Prints instructions in LLVM's BPF syntax, as <c>llvm-objdump -d</c> does; <see cref="Assembler"/> reads every line back
/// to the same bytes. The syntax, including the spellings LLVM lacks, is described on <see cref="Assembler"/>.
/// An encoding that is not an RFC 9669 instruction (<see cref="InstructionValidator.FieldProblem"/>: an unknown opcode,
/// a register above r10, a non-zero reserved field, an lddw without its second slot) prints as
/// <c>.insn code, dst, src, off, imm</c>, one slot per line; nothing throws. Valid encodings the loader refuses
/// (writes to r10, kfunc calls) print as text.
/// </summary>
public static class Disassembler
{
    /// <summary>The text of the instruction at <paramref name="index"/>; an lddw reads the next slot too.</summary>
    public static string Format(ReadOnlySpan<bpf_insn> insns, int index) => Format(insns, index, out _);

    /// <summary>The text of the instruction at <paramref name="index"/> and the slots it takes (2 for lddw, else 1).</summary>
    public static string Format(ReadOnlySpan<bpf_insn> insns, int index, out int slots)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, insns.Length);
        var insn = insns[index];
        if (InstructionValidator.FieldProblem(insns, index, out _) is not null)
        {
            slots = 1;
            return FormatRaw(insn);
        }
        slots = InstructionValidator.IsWide(insn) ? 2 : 1;
        return Class(insn.code) switch
        {
            BPF_ALU or BPF_ALU64 => FormatAlu(insn),
            BPF_JMP or BPF_JMP32 => FormatJump(insn),
            BPF_LD => FormatLd(insns, index),
            BPF_LDX => FormatLdx(insn),
            BPF_ST => FormatSt(insn),
            _ => FormatStx(insn),
        };
    }

    /// <summary>The program as assembler source, one instruction per line, which <see cref="Assembler.Assemble"/> turns back into the same bytes.</summary>
    public static string Disassemble(ReadOnlySpan<bpf_insn> insns)
    {
        var text = new StringBuilder();
        for (var i = 0; i < insns.Length;)
        {
            text.Append(Format(insns, i, out var slots)).Append('\n');
            i += slots;
        }
        return text.ToString();
    }

    /// <summary>
    /// A listing like <c>llvm-objdump -d</c>: slot index, the raw bytes, the text;
    /// <c>       0:\tb7 00 00 00 01 00 00 00\tr0 = 1</c>. An lddw shows its 16 bytes on one line.
    /// </summary>
    public static string FormatProgram(ReadOnlySpan<bpf_insn> insns)
    {
        var text = new StringBuilder();
        for (var i = 0; i < insns.Length;)
        {
            var line = Format(insns, i, out var slots);
            text.Append(i.ToString(null, null).PadLeft(8)).Append(":\t");
            var bytes = bpf_insn.ToBytes(insns.Slice(i, slots));
            for (var b = 0; b < bytes.Length; b++)
            {
                if (b > 0)
                    text.Append(' ');
                text.Append(bytes[b].ToString("x2", null));
            }
            text.Append('\t').Append(line).Append('\n');
            i += slots;
        }
        return text.ToString();
    }

    /// <summary>The form every encoding has: <c>.insn 0x8d, 1, 2, 3, 5</c>, the fields of BPF_RAW_INSN(code, dst, src, off, imm).</summary>
    public static string FormatRaw(bpf_insn insn) =>
        $"{Syntax.Raw} 0x{insn.code:x2}, {insn.dst_reg}, {insn.src_reg}, {insn.off}, {insn.imm}";

    // The Format* functions below see only valid encodings (InstructionValidator.FieldProblem decides which), so they
    // spell fields without checking them. A Syntax lookup that came back empty would mean the tables and the rules
    // disagree; the round-trip tests over the RFC table catch that.

    private static string FormatAlu(bpf_insn insn)
    {
        var wide = Class(insn.code) == BPF_ALU64;
        var op = Op(insn.code);
        var x = Source(insn.code) == BPF_X;
        var d = Syntax.Register(insn.dst_reg, wide);
        switch (op)
        {
            case BPF_NEG:
                return $"{d} = -{d}";
            case BPF_END:
                // LLVM writes every byte swap on r registers, even the ALU-class be/le ones.
                return $"r{insn.dst_reg} = {Syntax.ByteSwapName(Class(insn.code), Source(insn.code))}{insn.imm} r{insn.dst_reg}";
            case BPF_MOV when x && insn.off != 0:
                // movsx: 'off' is the width of the source.
                return $"{d} = (s{insn.off}){Syntax.Register(insn.src_reg, wide)}";
        }
        var text = Syntax.AluOperator(op, insn.off);
        return x ? $"{d} {text} {Syntax.Register(insn.src_reg, wide)}" : $"{d} {text} {insn.imm}";
    }

    private static string FormatJump(bpf_insn insn)
    {
        var wide = Class(insn.code) == BPF_JMP;
        var op = Op(insn.code);
        switch (op)
        {
            case BPF_JA:
                return wide ? $"{Syntax.Goto} {Syntax.Signed(insn.off)}" : $"{Syntax.GotoLong} {Syntax.Signed(insn.imm)}";
            case BPF_CALL:
                return insn.src_reg switch
                {
                    BPF_PSEUDO_CALL => $"{Syntax.Call} {Syntax.ProgramCounter}{Syntax.Signed(insn.imm)}",
                    // For a kfunc, 'off' selects the module BTF (an fd_array index); 0 means vmlinux.
                    BPF_PSEUDO_KFUNC_CALL when insn.off == 0 => $"{Syntax.Call} {Syntax.Kfunc}({insn.imm})",
                    BPF_PSEUDO_KFUNC_CALL => $"{Syntax.Call} {Syntax.Kfunc}({insn.imm}, {insn.off})",
                    _ => $"{Syntax.Call} {insn.imm}",
                };
            case BPF_EXIT:
                return Syntax.Exit;
        }
        var dst = Syntax.Register(insn.dst_reg, wide);
        var src = Source(insn.code) == BPF_X ? Syntax.Register(insn.src_reg, wide) : insn.imm.ToString(null, null);
        return $"{Syntax.If} {dst} {Syntax.JumpOperator(op)} {src} {Syntax.Goto} {Syntax.Signed(insn.off)}";
    }

    private static string FormatLd(ReadOnlySpan<bpf_insn> insns, int index)
    {
        var insn = insns[index];
        if (InstructionValidator.IsWide(insn))
            return FormatLddw(insn, insns[index + 1]);
        var load = $"r0 = *({Syntax.SizeName(Size(insn.code), signed: false)} *){Syntax.Packet}";
        if (Mode(insn.code) == BPF_ABS)
            return $"{load}[{insn.imm}]";
        // LLVM prints (and accepts) only skb[rN], silently dropping imm; the offset is spelled here so it survives.
        return insn.imm == 0
            ? $"{load}[r{insn.src_reg}]"
            : $"{load}[r{insn.src_reg} {(insn.imm < 0 ? '-' : '+')} {Math.Abs((long)insn.imm)}]";
    }

    private static string FormatLddw(bpf_insn insn, bpf_insn next)
    {
        var dst = $"r{insn.dst_reg}";
        if (insn.src_reg == 0)
        {
            var value = (uint)insn.imm | ((ulong)(uint)next.imm << 32);
            return $"{dst} = 0x{value:x} {Syntax.Wide}";
        }
        var name = Syntax.PseudoLoadName(insn.src_reg);
        return insn.src_reg switch
        {
            BPF_PSEUDO_FUNC => $"{dst} = {name}({Syntax.ProgramCounter}{Syntax.Signed(insn.imm)}) {Syntax.Wide}",
            BPF_PSEUDO_BTF_ID when next.imm != 0 => $"{dst} = {name}({insn.imm}, {next.imm}) {Syntax.Wide}",
            BPF_PSEUDO_MAP_VALUE or BPF_PSEUDO_MAP_IDX_VALUE => $"{dst} = {name}({insn.imm}, {Syntax.Signed(next.imm)}) {Syntax.Wide}",
            _ => $"{dst} = {name}({insn.imm}) {Syntax.Wide}",
        };
    }

    private static string FormatLdx(bpf_insn insn)
    {
        var signed = Mode(insn.code) == BPF_MEMSX;
        return $"r{insn.dst_reg} = *({Syntax.SizeName(Size(insn.code), signed)} *)({Syntax.Address(insn.src_reg, insn.off)})";
    }

    private static string FormatSt(bpf_insn insn) =>
        $"*({Syntax.SizeName(Size(insn.code), signed: false)} *)({Syntax.Address(insn.dst_reg, insn.off)}) = {insn.imm}";

    private static string FormatStx(bpf_insn insn)
    {
        var size = Size(insn.code);
        var sizeName = Syntax.SizeName(size, signed: false);
        var address = Syntax.Address(insn.dst_reg, insn.off);
        if (Mode(insn.code) == BPF_MEM)
            return $"*({sizeName} *)({address}) = r{insn.src_reg}";
        var wide = size == BPF_DW;
        var src = Syntax.Register(insn.src_reg, wide);
        var r0 = Syntax.Register(0, wide);
        switch (insn.imm)
        {
            case BPF_XCHG:
                return $"{src} = {(wide ? Syntax.Xchg64 : Syntax.Xchg32)}({address}, {src})";
            case BPF_CMPXCHG:
                return $"{r0} = {(wide ? Syntax.CmpXchg64 : Syntax.CmpXchg32)}({address}, {r0}, {src})";
        }
        Syntax.TryAtomicOperator(insn.imm & ~BPF_FETCH, out var lockOperator, out var fetchName);
        return (insn.imm & BPF_FETCH) == 0
            ? $"{Syntax.Lock} *({sizeName} *)({address}) {lockOperator} {src}"
            : $"{src} = {Syntax.FetchPrefix}{fetchName}(({sizeName} *)({address}), {src})";
    }
}
