using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Isa;

/// <summary>
/// Load-time structural checks, strictly as RFC 9669 defines the encoding: known opcodes, registers 0-10, reserved
/// fields zero, jumps inside their subprogram and never into the second half of lddw, every subprogram ending in
/// exit or a jump. Semantic safety (bounds, types) is the verifier's job; this only guarantees a well-formed program.
/// </summary>
public static class InstructionValidator
{
    /// <summary>Throws <see cref="BpfLoadException"/> naming the first malformed instruction.</summary>
    public static void Validate(ReadOnlySpan<bpf_insn> insns)
    {
        if (insns.IsEmpty)
            throw new BpfLoadException("program is empty: at least an exit instruction is needed");
        if (insns.Length > BPF_COMPLEXITY_LIMIT_INSNS)
            throw new BpfLoadException($"program has {insns.Length} instructions, more than the limit of {BPF_COMPLEXITY_LIMIT_INSNS}");

        var isSecondHalf = new bool[insns.Length];
        for (var pc = 0; pc < insns.Length; pc++)
        {
            if (IsWide(insns[pc]))
            {
                if (pc + 1 >= insns.Length)
                    throw Fail(pc, insns[pc], "lddw is the last instruction: its second half is missing");
                isSecondHalf[++pc] = true;
            }
        }

        var subprogramStarts = new SortedSet<int> { 0 };
        for (var pc = 0; pc < insns.Length; pc++)
        {
            if (isSecondHalf[pc])
                continue;
            var insn = insns[pc];
            CheckFields(insns, pc, insn);
            if (IsPseudoCall(insn) || IsPseudoFunc(insn))
            {
                var target = pc + 1 + insn.imm;
                CheckTarget(insns, isSecondHalf, pc, insn, target);
                subprogramStarts.Add(target);
            }
        }

        CheckSubprograms(insns, isSecondHalf, subprogramStarts);
    }

    public static bool IsWide(bpf_insn insn) => insn.code == (BPF_LD | BPF_IMM | BPF_DW);

    public static bool IsPseudoCall(bpf_insn insn) => insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == BPF_PSEUDO_CALL;

    public static bool IsPseudoFunc(bpf_insn insn) => IsWide(insn) && insn.src_reg == BPF_PSEUDO_FUNC;

    /// <summary>The instruction a jump goes to (possibly outside the program), or null for instructions that do not jump.</summary>
    public static int? JumpTarget(bpf_insn insn, int pc)
    {
        var cls = Class(insn.code);
        if (cls != BPF_JMP && cls != BPF_JMP32)
            return null;
        var op = Op(insn.code);
        if (op is BPF_CALL or BPF_EXIT)
            return null;
        if (cls == BPF_JMP32 && op == BPF_JA)
            return pc + 1 + insn.imm;
        return pc + 1 + insn.off;
    }

    private static void CheckFields(ReadOnlySpan<bpf_insn> insns, int pc, bpf_insn insn)
    {
        var code = insn.code;
        if (insn.dst_reg > 10)
            throw Fail(pc, insn, $"invalid destination register r{insn.dst_reg}");
        if (insn.src_reg > 10)
            throw Fail(pc, insn, $"invalid source register r{insn.src_reg}");

        switch (Class(code))
        {
            case BPF_ALU:
            case BPF_ALU64:
                CheckAlu(pc, insn);
                break;
            case BPF_JMP:
            case BPF_JMP32:
                CheckJump(pc, insn);
                break;
            case BPF_LD:
                CheckLd(insns, pc, insn);
                break;
            case BPF_LDX:
                if (Mode(code) == BPF_MEM || (Mode(code) == BPF_MEMSX && Size(code) != BPF_DW))
                {
                    RequireZero(pc, insn, insn.imm, "imm");
                    RequireWritableDst(pc, insn);
                    break;
                }
                throw UnknownOpcode(pc, insn);
            case BPF_ST:
                if (Mode(code) != BPF_MEM)
                    throw UnknownOpcode(pc, insn);
                RequireZero(pc, insn, insn.src_reg, "src_reg");
                break;
            case BPF_STX:
                if (Mode(code) == BPF_MEM)
                {
                    RequireZero(pc, insn, insn.imm, "imm");
                    break;
                }
                if (Mode(code) == BPF_ATOMIC && Size(code) is BPF_W or BPF_DW)
                {
                    if (!IsAtomicOperation(insn.imm))
                        throw Fail(pc, insn, $"unknown atomic operation imm=0x{insn.imm:x}");
                    break;
                }
                throw UnknownOpcode(pc, insn);
        }
    }

    public static bool IsAtomicOperation(int imm) => imm is
        BPF_ADD or BPF_OR or BPF_AND or BPF_XOR or
        (BPF_ADD | BPF_FETCH) or (BPF_OR | BPF_FETCH) or (BPF_AND | BPF_FETCH) or (BPF_XOR | BPF_FETCH) or
        BPF_XCHG or BPF_CMPXCHG;

    private static void CheckAlu(int pc, bpf_insn insn)
    {
        var code = insn.code;
        var op = Op(code);
        var is64 = Class(code) == BPF_ALU64;
        if (op > BPF_END)
            throw UnknownOpcode(pc, insn);
        RequireWritableDst(pc, insn);
        switch (op)
        {
            case BPF_NEG:
                if (Source(code) != BPF_K)
                    throw UnknownOpcode(pc, insn);
                RequireZero(pc, insn, insn.src_reg, "src_reg");
                RequireZero(pc, insn, insn.imm, "imm");
                RequireZero(pc, insn, insn.off, "offset");
                return;
            case BPF_END:
                if (is64 && Source(code) != BPF_TO_LE)
                    throw UnknownOpcode(pc, insn);
                RequireZero(pc, insn, insn.src_reg, "src_reg");
                RequireZero(pc, insn, insn.off, "offset");
                if (insn.imm is not (16 or 32 or 64))
                    throw Fail(pc, insn, $"byte swap width must be 16, 32 or 64, not {insn.imm}");
                return;
        }

        if (Source(code) == BPF_K)
            RequireZero(pc, insn, insn.src_reg, "src_reg");
        else
            RequireZero(pc, insn, insn.imm, "imm");

        var offsetOk = op switch
        {
            BPF_DIV or BPF_MOD => insn.off is 0 or 1,
            BPF_MOV when Source(code) == BPF_X => insn.off is 0 or 8 or 16 || (is64 && insn.off == 32),
            _ => insn.off == 0,
        };
        if (!offsetOk)
            throw Fail(pc, insn, $"offset {insn.off} is not defined for this opcode");
    }

    private static void CheckJump(int pc, bpf_insn insn)
    {
        var code = insn.code;
        var op = Op(code);
        var is32 = Class(code) == BPF_JMP32;
        if (op > BPF_JSLE)
            throw UnknownOpcode(pc, insn);
        switch (op)
        {
            case BPF_JA:
                if (Source(code) != BPF_K)
                    throw UnknownOpcode(pc, insn);
                RequireZero(pc, insn, insn.dst_reg, "dst_reg");
                RequireZero(pc, insn, insn.src_reg, "src_reg");
                if (is32)
                    RequireZero(pc, insn, insn.off, "offset");
                else
                    RequireZero(pc, insn, insn.imm, "imm");
                return;
            case BPF_CALL:
                if (is32 || Source(code) != BPF_K)
                    throw UnknownOpcode(pc, insn);
                RequireZero(pc, insn, insn.dst_reg, "dst_reg");
                RequireZero(pc, insn, insn.off, "offset");
                if (insn.src_reg == BPF_PSEUDO_KFUNC_CALL)
                    throw Fail(pc, insn, "kfunc calls (call src_reg=2) need kernel BTF and are not supported");
                if (insn.src_reg > BPF_PSEUDO_CALL)
                    throw Fail(pc, insn, $"call with unknown src_reg {insn.src_reg}");
                return;
            case BPF_EXIT:
                if (is32 || Source(code) != BPF_K)
                    throw UnknownOpcode(pc, insn);
                RequireZero(pc, insn, insn.dst_reg, "dst_reg");
                RequireZero(pc, insn, insn.src_reg, "src_reg");
                RequireZero(pc, insn, insn.off, "offset");
                RequireZero(pc, insn, insn.imm, "imm");
                return;
        }
        if (Source(code) == BPF_K)
            RequireZero(pc, insn, insn.src_reg, "src_reg");
        else
            RequireZero(pc, insn, insn.imm, "imm");
    }

    private static void CheckLd(ReadOnlySpan<bpf_insn> insns, int pc, bpf_insn insn)
    {
        var code = insn.code;
        if (IsWide(insn))
        {
            RequireWritableDst(pc, insn);
            RequireZero(pc, insn, insn.off, "offset");
            if (insn.src_reg > BPF_PSEUDO_MAP_IDX_VALUE)
                throw Fail(pc, insn, $"lddw with unknown src_reg {insn.src_reg}");
            var next = insns[pc + 1];
            if (next.code != 0 || next.regs != 0 || next.off != 0)
                throw Fail(pc + 1, next, "second half of lddw must have opcode, registers and offset zero");
            return;
        }
        if (Mode(code) is BPF_ABS or BPF_IND && Size(code) != BPF_DW)
        {
            RequireZero(pc, insn, insn.dst_reg, "dst_reg");
            RequireZero(pc, insn, insn.off, "offset");
            if (Mode(code) == BPF_ABS)
                RequireZero(pc, insn, insn.src_reg, "src_reg");
            return;
        }
        throw UnknownOpcode(pc, insn);
    }

    private static void CheckTarget(ReadOnlySpan<bpf_insn> insns, bool[] isSecondHalf, int pc, bpf_insn insn, int target)
    {
        if (target < 0 || target >= insns.Length)
            throw Fail(pc, insn, $"jump target {target} is outside the program (0..{insns.Length - 1})");
        if (isSecondHalf[target])
            throw Fail(pc, insn, $"jump target {target} is the middle of an lddw instruction");
    }

    private static void CheckSubprograms(ReadOnlySpan<bpf_insn> insns, bool[] isSecondHalf, SortedSet<int> starts)
    {
        var bounds = starts.ToArray();
        for (var s = 0; s < bounds.Length; s++)
        {
            var start = bounds[s];
            var end = s + 1 < bounds.Length ? bounds[s + 1] : insns.Length;
            for (var pc = start; pc < end; pc++)
            {
                if (isSecondHalf[pc])
                    continue;
                if (JumpTarget(insns[pc], pc) is not { } target)
                    continue;
                CheckTarget(insns, isSecondHalf, pc, insns[pc], target);
                if (target < start || target >= end)
                    throw Fail(pc, insns[pc], $"jump to {target} leaves its subprogram ({start}..{end - 1})");
            }
            var last = isSecondHalf[end - 1] ? end - 2 : end - 1;
            var lastInsn = insns[last];
            var isExitOrJump = lastInsn.code == (BPF_JMP | BPF_EXIT) || lastInsn.code == (BPF_JMP | BPF_JA) || lastInsn.code == (BPF_JMP32 | BPF_JA);
            if (!isExitOrJump)
                throw Fail(last, lastInsn, end == insns.Length && start == 0 && bounds.Length == 1
                    ? "program does not end with exit: execution would run past the last instruction"
                    : $"subprogram at {start} does not end with exit or jump");
        }
    }

    private static void RequireWritableDst(int pc, bpf_insn insn)
    {
        if (insn.dst_reg == BPF_REG_FP)
            throw Fail(pc, insn, "r10 is the read-only frame pointer and cannot be written");
    }

    private static void RequireZero(int pc, bpf_insn insn, int value, string field)
    {
        if (value != 0)
            throw Fail(pc, insn, $"reserved field {field} must be 0, is {value}");
    }

    private static BpfLoadException UnknownOpcode(int pc, bpf_insn insn) => Fail(pc, insn, $"unknown opcode 0x{insn.code:x2}");

    public static BpfLoadException Fail(int pc, bpf_insn insn, string message) =>
        new($"insn {pc}: {Disassembler.Format([insn], 0)}: {message}");
}
