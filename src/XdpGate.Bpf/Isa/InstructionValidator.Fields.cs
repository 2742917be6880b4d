using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Isa;

/// <summary>
/// The field rules of RFC 9669 (Appendix A with the v4 additions): which opcode, register, offset and imm combinations
/// are instructions at all. This one classifier serves both <see cref="Validate"/>, which refuses what it rejects, and
/// <see cref="Disassembler"/>, which prints what it rejects as <c>.insn</c>. A valid encoding the loader still refuses
/// for what it means (a write to r10, a kfunc call) is not an encoding problem: the disassembler must print it as text.
/// </summary>
public static partial class InstructionValidator
{
    /// <summary>
    /// Null when the instruction at <paramref name="pc"/> (with its second slot, for lddw) is a valid encoding; otherwise
    /// what is wrong with it, and in <paramref name="at"/> the slot at fault: <paramref name="pc"/>, or the slot after it
    /// for a malformed second half of lddw. Never throws for any field values.
    /// </summary>
    public static string? FieldProblem(ReadOnlySpan<bpf_insn> insns, int pc, out int at)
    {
        at = pc;
        var insn = insns[pc];
        if (IsWide(insn) && pc + 1 >= insns.Length)
            return "lddw is the last instruction: its second half is missing";
        if (insn.dst_reg > BPF_REG_FP)
            return $"invalid destination register r{insn.dst_reg}";
        if (insn.src_reg > BPF_REG_FP)
            return $"invalid source register r{insn.src_reg}";

        var code = insn.code;
        switch (Class(code))
        {
            case BPF_ALU:
            case BPF_ALU64:
                return AluProblem(insn);
            case BPF_JMP:
            case BPF_JMP32:
                return JumpProblem(insn);
            case BPF_LD:
                return LdProblem(insns, pc, ref at);
            case BPF_LDX:
                return Mode(code) == BPF_MEM || (Mode(code) == BPF_MEMSX && Size(code) != BPF_DW)
                    ? Reserved(insn.imm, "imm")
                    : UnknownOpcode(insn);
            case BPF_ST:
                return Mode(code) == BPF_MEM ? Reserved(insn.src_reg, "src_reg") : UnknownOpcode(insn);
            default:
                if (Mode(code) == BPF_MEM)
                    return Reserved(insn.imm, "imm");
                if (Mode(code) == BPF_ATOMIC && Size(code) is BPF_W or BPF_DW)
                    return IsAtomicOperation(insn.imm) ? null : $"unknown atomic operation imm=0x{insn.imm:x}";
                return UnknownOpcode(insn);
        }
    }

    public static bool IsAtomicOperation(int imm) => imm is
        BPF_ADD or BPF_OR or BPF_AND or BPF_XOR or
        (BPF_ADD | BPF_FETCH) or (BPF_OR | BPF_FETCH) or (BPF_AND | BPF_FETCH) or (BPF_XOR | BPF_FETCH) or
        BPF_XCHG or BPF_CMPXCHG;

    private static string? AluProblem(bpf_insn insn)
    {
        var code = insn.code;
        var is64 = Class(code) == BPF_ALU64;
        var isK = Source(code) == BPF_K;
        switch (Op(code))
        {
            case > BPF_END:
                return UnknownOpcode(insn);
            case BPF_NEG:
                return isK
                    ? Reserved(insn.src_reg, "src_reg") ?? Reserved(insn.imm, "imm") ?? Reserved(insn.off, "offset")
                    : UnknownOpcode(insn);
            case BPF_END:
                if (is64 && Source(code) != BPF_TO_LE)
                    return UnknownOpcode(insn);
                return Reserved(insn.src_reg, "src_reg") ?? Reserved(insn.off, "offset")
                    ?? (Syntax.IsByteSwapWidth(insn.imm) ? null : $"byte swap width must be 16, 32 or 64, not {insn.imm}");
        }

        var offsetOk = Op(code) switch
        {
            BPF_DIV or BPF_MOD => insn.off is 0 or 1,
            BPF_MOV when !isK => insn.off is 0 or 8 or 16 || (is64 && insn.off == 32),
            _ => insn.off == 0,
        };
        return (isK ? Reserved(insn.src_reg, "src_reg") : Reserved(insn.imm, "imm"))
            ?? (offsetOk ? null : $"offset {insn.off} is not defined for this opcode");
    }

    private static string? JumpProblem(bpf_insn insn)
    {
        var code = insn.code;
        var is32 = Class(code) == BPF_JMP32;
        var isK = Source(code) == BPF_K;
        switch (Op(code))
        {
            case > BPF_JSLE:
                return UnknownOpcode(insn);
            case BPF_JA:
                if (!isK)
                    return UnknownOpcode(insn);
                return Reserved(insn.dst_reg, "dst_reg") ?? Reserved(insn.src_reg, "src_reg")
                    ?? (is32 ? Reserved(insn.off, "offset") : Reserved(insn.imm, "imm"));
            case BPF_CALL:
                if (is32 || !isK)
                    return UnknownOpcode(insn);
                // A kfunc call's 'off' selects the module BTF (an fd_array index), 0 meaning vmlinux.
                return Reserved(insn.dst_reg, "dst_reg")
                    ?? (insn.src_reg == BPF_PSEUDO_KFUNC_CALL ? null : Reserved(insn.off, "offset"))
                    ?? (insn.src_reg > BPF_PSEUDO_KFUNC_CALL ? $"call with unknown src_reg {insn.src_reg}" : null);
            case BPF_EXIT:
                if (is32 || !isK)
                    return UnknownOpcode(insn);
                return Reserved(insn.dst_reg, "dst_reg") ?? Reserved(insn.src_reg, "src_reg")
                    ?? Reserved(insn.off, "offset") ?? Reserved(insn.imm, "imm");
            default:
                return isK ? Reserved(insn.src_reg, "src_reg") : Reserved(insn.imm, "imm");
        }
    }

    private static string? LdProblem(ReadOnlySpan<bpf_insn> insns, int pc, ref int at)
    {
        var insn = insns[pc];
        var code = insn.code;
        if (IsWide(insn))
        {
            if (Reserved(insn.off, "offset") is { } offset)
                return offset;
            if (insn.src_reg > BPF_PSEUDO_MAP_IDX_VALUE)
                return $"lddw with unknown src_reg {insn.src_reg}";
            var next = insns[pc + 1];
            if (next.code != 0 || next.regs != 0 || next.off != 0)
            {
                at = pc + 1;
                return "second half of lddw must have opcode, registers and offset zero";
            }
            // Only a plain 64-bit value, map values (an offset) and BTF ids (a module BTF fd) use the second imm.
            return insn.src_reg == 0 || Syntax.PseudoLoadHasSecondImm(insn.src_reg) ? null : Reserved(next.imm, "next_imm");
        }
        if (Mode(code) is BPF_ABS or BPF_IND && Size(code) != BPF_DW)
        {
            return Reserved(insn.dst_reg, "dst_reg") ?? Reserved(insn.off, "offset")
                ?? (Mode(code) == BPF_ABS ? Reserved(insn.src_reg, "src_reg") : null);
        }
        return UnknownOpcode(insn);
    }

    private static string? Reserved(int value, string field) => value == 0 ? null : $"reserved field {field} must be 0, is {value}";

    private static string UnknownOpcode(bpf_insn insn) => $"unknown opcode 0x{insn.code:x2}";
}
