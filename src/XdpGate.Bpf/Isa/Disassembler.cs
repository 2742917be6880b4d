using System.Text;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Isa;

/// <summary>
/// Prints instructions in LLVM's BPF syntax, as <c>llvm-objdump -d</c> does; <see cref="Assembler"/> reads every line back
/// to the same bytes. The syntax, including the spellings LLVM lacks, is described on <see cref="Assembler"/>.
/// An encoding the text cannot carry exactly (an opcode outside RFC 9669, a register above r10, a non-zero reserved field,
/// an lddw without its second slot) prints as <c>.insn code, dst, src, off, imm</c>, one slot per line; nothing throws.
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
        slots = 1;
        var text = Class(insn.code) switch
        {
            BPF_ALU or BPF_ALU64 => FormatAlu(insn),
            BPF_JMP or BPF_JMP32 => FormatJump(insn),
            BPF_LD => FormatLd(insns, index, ref slots),
            BPF_LDX => FormatLdx(insn),
            BPF_ST => FormatSt(insn),
            _ => FormatStx(insn),
        };
        if (text is not null)
            return text;
        slots = 1;
        return FormatRaw(insn);
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

    private static bool IsRegister(int reg) => reg <= Syntax.MaxRegister;

    private static string? FormatAlu(bpf_insn insn)
    {
        var wide = Class(insn.code) == BPF_ALU64;
        var op = Op(insn.code);
        var x = Source(insn.code) == BPF_X;
        int dst = insn.dst_reg, src = insn.src_reg;
        if (!IsRegister(dst))
            return null;
        var d = Syntax.Register(dst, wide);
        switch (op)
        {
            case BPF_NEG:
                return !x && src == 0 && insn.off == 0 && insn.imm == 0 ? $"{d} = -{d}" : null;
            case BPF_END:
                // LLVM writes every byte swap on r registers, even the ALU-class be/le ones.
                var name = Syntax.ByteSwapName(Class(insn.code), Source(insn.code));
                return name is not null && src == 0 && insn.off == 0 && Syntax.IsByteSwapWidth(insn.imm)
                    ? $"r{dst} = {name}{insn.imm} r{dst}"
                    : null;
            case BPF_MOV when x && insn.off != 0:
                // movsx: 'off' is the width of the source, and sign-extending a full 32-bit register to itself is not an instruction.
                return insn.off is 8 or 16 || (wide && insn.off == 32)
                    ? insn.imm == 0 && IsRegister(src) ? $"{d} = (s{insn.off}){Syntax.Register(src, wide)}" : null
                    : null;
        }
        var text = Syntax.AluOperator(op, insn.off);
        if (text is null)
            return null;
        if (x)
            return insn.imm == 0 && IsRegister(src) ? $"{d} {text} {Syntax.Register(src, wide)}" : null;
        return src == 0 ? $"{d} {text} {insn.imm}" : null;
    }

    private static string? FormatJump(bpf_insn insn)
    {
        var wide = Class(insn.code) == BPF_JMP;
        var op = Op(insn.code);
        var x = Source(insn.code) == BPF_X;
        int dst = insn.dst_reg, src = insn.src_reg;
        switch (op)
        {
            case BPF_JA:
                if (x || insn.regs != 0)
                    return null;
                if (wide)
                    return insn.imm == 0 ? $"{Syntax.Goto} {Syntax.Signed(insn.off)}" : null;
                return insn.off == 0 ? $"{Syntax.GotoLong} {Syntax.Signed(insn.imm)}" : null;
            case BPF_CALL:
                if (!wide || x || dst != 0)
                    return null;
                return src switch
                {
                    0 when insn.off == 0 => $"{Syntax.Call} {insn.imm}",
                    BPF_PSEUDO_CALL when insn.off == 0 => $"{Syntax.Call} {Syntax.ProgramCounter}{Syntax.Signed(insn.imm)}",
                    // For a kfunc, 'off' selects the module BTF (an fd_array index); 0 means vmlinux.
                    BPF_PSEUDO_KFUNC_CALL when insn.off == 0 => $"{Syntax.Call} {Syntax.Kfunc}({insn.imm})",
                    BPF_PSEUDO_KFUNC_CALL => $"{Syntax.Call} {Syntax.Kfunc}({insn.imm}, {insn.off})",
                    _ => null,
                };
            case BPF_EXIT:
                return wide && !x && insn.regs == 0 && insn.off == 0 && insn.imm == 0 ? Syntax.Exit : null;
        }
        var text = Syntax.JumpOperator(op);
        if (text is null || !IsRegister(dst))
            return null;
        var target = $"{Syntax.Goto} {Syntax.Signed(insn.off)}";
        if (x)
            return insn.imm == 0 && IsRegister(src) ? $"{Syntax.If} {Syntax.Register(dst, wide)} {text} {Syntax.Register(src, wide)} {target}" : null;
        return src == 0 ? $"{Syntax.If} {Syntax.Register(dst, wide)} {text} {insn.imm} {target}" : null;
    }

    private static string? FormatLd(ReadOnlySpan<bpf_insn> insns, int index, ref int slots)
    {
        var insn = insns[index];
        var mode = Mode(insn.code);
        var size = Size(insn.code);
        if (mode == BPF_IMM && size == BPF_DW)
            return FormatLddw(insns, index, ref slots);
        if ((mode != BPF_ABS && mode != BPF_IND) || size == BPF_DW || insn.dst_reg != 0 || insn.off != 0)
            return null;
        var load = $"r0 = *({Syntax.SizeName(size, signed: false)} *){Syntax.Packet}";
        if (mode == BPF_ABS)
            return insn.src_reg == 0 ? $"{load}[{insn.imm}]" : null;
        if (!IsRegister(insn.src_reg))
            return null;
        // LLVM prints (and accepts) only skb[rN], silently dropping imm; the offset is spelled here so it survives.
        return insn.imm == 0
            ? $"{load}[r{insn.src_reg}]"
            : $"{load}[r{insn.src_reg} {(insn.imm < 0 ? '-' : '+')} {Math.Abs((long)insn.imm)}]";
    }

    private static string? FormatLddw(ReadOnlySpan<bpf_insn> insns, int index, ref int slots)
    {
        var insn = insns[index];
        if (index + 1 >= insns.Length || insn.off != 0 || !IsRegister(insn.dst_reg))
            return null;
        var next = insns[index + 1];
        if (next.code != 0 || next.regs != 0 || next.off != 0)
            return null;
        var dst = $"r{insn.dst_reg}";
        string? text;
        if (insn.src_reg == 0)
        {
            var value = (uint)insn.imm | ((ulong)(uint)next.imm << 32);
            text = $"{dst} = 0x{value:x} {Syntax.Wide}";
        }
        else
        {
            var name = Syntax.PseudoLoadName(insn.src_reg);
            text = name switch
            {
                null => null,
                _ when insn.src_reg == BPF_PSEUDO_FUNC => next.imm == 0 ? $"{dst} = {name}({Syntax.ProgramCounter}{Syntax.Signed(insn.imm)}) {Syntax.Wide}" : null,
                _ when insn.src_reg == BPF_PSEUDO_BTF_ID => next.imm == 0 ? $"{dst} = {name}({insn.imm}) {Syntax.Wide}" : $"{dst} = {name}({insn.imm}, {next.imm}) {Syntax.Wide}",
                _ when Syntax.PseudoLoadHasSecondImm(insn.src_reg) => $"{dst} = {name}({insn.imm}, {Syntax.Signed(next.imm)}) {Syntax.Wide}",
                _ => next.imm == 0 ? $"{dst} = {name}({insn.imm}) {Syntax.Wide}" : null,
            };
        }
        if (text is not null)
            slots = 2;
        return text;
    }

    private static string? FormatLdx(bpf_insn insn)
    {
        var mode = Mode(insn.code);
        var size = Size(insn.code);
        var signed = mode == BPF_MEMSX;
        if ((mode != BPF_MEM && !signed) || (signed && size == BPF_DW) || insn.imm != 0 || !IsRegister(insn.dst_reg) || !IsRegister(insn.src_reg))
            return null;
        return $"r{insn.dst_reg} = *({Syntax.SizeName(size, signed)} *)({Syntax.Address(insn.src_reg, insn.off)})";
    }

    private static string? FormatSt(bpf_insn insn)
    {
        if (Mode(insn.code) != BPF_MEM || insn.src_reg != 0 || !IsRegister(insn.dst_reg))
            return null;
        return $"*({Syntax.SizeName(Size(insn.code), signed: false)} *)({Syntax.Address(insn.dst_reg, insn.off)}) = {insn.imm}";
    }

    private static string? FormatStx(bpf_insn insn)
    {
        var mode = Mode(insn.code);
        var size = Size(insn.code);
        if (!IsRegister(insn.dst_reg) || !IsRegister(insn.src_reg))
            return null;
        var sizeName = Syntax.SizeName(size, signed: false);
        var address = Syntax.Address(insn.dst_reg, insn.off);
        if (mode == BPF_MEM)
            return insn.imm == 0 ? $"*({sizeName} *)({address}) = r{insn.src_reg}" : null;
        if (mode != BPF_ATOMIC || (size != BPF_W && size != BPF_DW))
            return null;
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
        if (!Syntax.TryAtomicOperator(insn.imm & ~BPF_FETCH, out var lockOperator, out var fetchName))
            return null;
        return (insn.imm & BPF_FETCH) == 0
            ? $"{Syntax.Lock} *({sizeName} *)({address}) {lockOperator} {src}"
            : $"{src} = {Syntax.FetchPrefix}{fetchName}(({sizeName} *)({address}), {src})";
    }
}
