using XdpGate.Bpf.Verifier;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Isa;

/// <summary>
/// Load-time structural checks, strictly as RFC 9669 defines the encoding: every instruction a valid encoding
/// (<see cref="FieldProblem"/>: known opcodes, registers 0-10, reserved fields zero), jumps inside their subprogram and
/// never into the second half of lddw, every subprogram ending in exit or a jump; and the few valid encodings the
/// loader refuses (<see cref="Refusal"/>). Semantic safety (bounds, types) is the verifier's job; this only guarantees
/// a well-formed program.
/// </summary>
public static partial class InstructionValidator
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
            if (IsWide(insns[pc]) && pc + 1 < insns.Length)
                isSecondHalf[++pc] = true;
        }

        var subprogramStarts = new SortedSet<int> { 0 };
        for (var pc = 0; pc < insns.Length; pc++)
        {
            if (isSecondHalf[pc])
                continue;
            var insn = insns[pc];
            if (FieldProblem(insns, pc, out var at) is { } problem)
                throw Fail(at, insns[at], problem, VerifierRule.InvalidInstruction);
            if (Refusal(insn) is { } refusal)
                throw insn.dst_reg == BPF_REG_FP ? Fail(pc, insn, refusal, VerifierRule.FramePointerWrite) : Fail(pc, insn, refusal);
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

    /// <summary>
    /// Why a valid encoding is still refused at load, as the kernel refuses it: r10 is read-only (RFC 9669 section 3),
    /// and kfuncs need kernel BTF. Kept apart from <see cref="FieldProblem"/> because these are instructions all the same,
    /// which the disassembler prints as text.
    /// </summary>
    private static string? Refusal(bpf_insn insn)
    {
        // Every valid ALU, LDX and lddw instruction writes its destination.
        if (insn.dst_reg == BPF_REG_FP && (Class(insn.code) is BPF_ALU or BPF_ALU64 or BPF_LDX || IsWide(insn)))
            return "r10 is the read-only frame pointer and cannot be written";
        if (insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == BPF_PSEUDO_KFUNC_CALL)
            return "kfunc calls (call src_reg=2) need kernel BTF and are not supported";
        return null;
    }

    private static void CheckTarget(ReadOnlySpan<bpf_insn> insns, bool[] isSecondHalf, int pc, bpf_insn insn, int target)
    {
        if (target < 0 || target >= insns.Length)
            throw Fail(pc, insn, $"jump target {target} is outside the program (0..{insns.Length - 1})", VerifierRule.JumpOutOfRange);
        if (isSecondHalf[target])
            throw Fail(pc, insn, $"jump target {target} is the middle of an lddw instruction", VerifierRule.JumpIntoLddw);
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
                    throw Fail(pc, insns[pc], $"jump to {target} leaves its subprogram ({start}..{end - 1})", VerifierRule.JumpOutOfRange);
            }
            var last = isSecondHalf[end - 1] ? end - 2 : end - 1;
            var lastInsn = insns[last];
            var isExitOrJump = lastInsn.code == (BPF_JMP | BPF_EXIT) || lastInsn.code == (BPF_JMP | BPF_JA) || lastInsn.code == (BPF_JMP32 | BPF_JA);
            if (!isExitOrJump)
                throw Fail(last, lastInsn, end == insns.Length && start == 0 && bounds.Length == 1
                    ? "program does not end with exit: execution would run past the last instruction"
                    : $"subprogram at {start} does not end with exit or jump", VerifierRule.FallsOffEnd);
        }
    }

    public static BpfLoadException Fail(int pc, bpf_insn insn, string message) =>
        new($"insn {pc}: {Disassembler.Format([insn], 0)}: {message}");

    /// <summary>A structural refusal the verifier contract names a rule for (jumps, falling off the end, writing r10).</summary>
    public static VerifierException Fail(int pc, bpf_insn insn, string message, VerifierRule rule) =>
        new(rule, pc, $"insn {pc}: {Disassembler.Format([insn], 0)}: {message}");
}
