using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The kernel's rule that a register is read only after something wrote it (check_reg_arg: "R%d !read_ok"), for
/// programs that run unverified over raw memory: a forward data flow of the registers written on every path to each
/// instruction. The program starts with r1 (the memory), r2 (its length) and r10; a helper call writes r0 and leaves
/// r1-r5 unreadable, as a legacy packet load does; a local call enters its callee with the caller's r1-r5 and r10
/// only, and returns with r0 written, r1-r5 unreadable and r6-r9 as they were; a bpf_loop callback starts with r1
/// (the index), r2 (the context) and r10. Paths are those of the control flow, whatever the values: a read on a path
/// the kernel would prove is never taken is refused here.
/// </summary>
internal static class WrittenRegisters
{
    private const ushort R0 = 1;
    private const ushort Args = 0b11_1110;                 // r1-r5
    private const ushort Kept = 0b111_1100_0000;           // r6-r9 and r10: what a call leaves to its caller
    private const ushort Fp = 1 << BPF_REG_FP;
    private const ushort Entry = 0b110 | Fp;               // r1, r2, r10

    /// <summary>Throws, for the first instruction in program order that reads a register some path left unwritten.</summary>
    public static void Check(ReadOnlySpan<bpf_insn> insns)
    {
        var written = Flow(insns, out var reached);
        for (var pc = 0; pc < insns.Length; pc++)
        {
            if (!reached[pc])
                continue;
            foreach (var r in Reads(insns[pc]))
            {
                if ((written[pc] & (1 << r)) == 0)
                    throw InstructionValidator.Fail(pc, insns[pc], $"R{r} !read_ok", VerifierRule.UninitializedRegister);
            }
        }
    }

    /// <summary>The registers written on every path to each instruction (an intersection, to a fixed point).</summary>
    private static ushort[] Flow(ReadOnlySpan<bpf_insn> insns, out bool[] reached)
    {
        var into = new ushort[insns.Length];
        var seen = new bool[insns.Length];
        var work = new Stack<int>();
        void Reach(int pc, ushort registers)
        {
            var merged = seen[pc] ? (ushort)(into[pc] & registers) : registers;
            if (!seen[pc] || merged != into[pc])
            {
                seen[pc] = true;
                into[pc] = merged;
                work.Push(pc);
            }
        }

        Reach(0, Entry);
        while (work.Count > 0)
        {
            var pc = work.Pop();
            var insn = insns[pc];
            var before = into[pc];
            if (InstructionValidator.IsPseudoCall(insn))
                Reach(pc + 1 + insn.imm, (ushort)((before & Args) | Fp));
            else if (InstructionValidator.IsPseudoFunc(insn))
                Reach(pc + 1 + insn.imm, Entry);
            var after = Transfer(insn, before);
            foreach (var next in ControlFlow.Successors(insns, pc))
                Reach(next, after);
        }
        reached = seen;
        return into;
    }

    private static ushort Transfer(bpf_insn insn, ushort written)
    {
        var dst = (ushort)(1 << insn.dst_reg);
        switch (Class(insn.code))
        {
            case BPF_ALU:
            case BPF_ALU64:
            case BPF_LDX:
                return (ushort)(written | dst);
            case BPF_STX when Mode(insn.code) == BPF_ATOMIC && (insn.imm & BPF_FETCH) != 0:
                return (ushort)(written | (insn.imm == BPF_CMPXCHG ? R0 : 1 << insn.src_reg));
            case BPF_LD:
                return InstructionValidator.IsWide(insn) ? (ushort)(written | dst) : (ushort)((written & ~Args) | R0);
            case BPF_JMP when Op(insn.code) == BPF_CALL:
                return insn.src_reg == BPF_PSEUDO_CALL ? (ushort)((written & Kept) | R0) : (ushort)((written & ~Args) | R0);
            default:
                return written;
        }
    }

    /// <summary>What an instruction reads, in the order the kernel checks its operands (so the first one it names is named).</summary>
    private static IEnumerable<int> Reads(bpf_insn insn)
    {
        int d = insn.dst_reg, s = insn.src_reg;
        var isX = Source(insn.code) == BPF_X;
        var op = Op(insn.code);
        switch (Class(insn.code))
        {
            case BPF_ALU:
            case BPF_ALU64:
                if (op is BPF_NEG or BPF_END)
                    return [d];
                if (op == BPF_MOV)
                    return isX ? [s] : [];
                return isX ? [s, d] : [d];
            case BPF_LDX:
                return [s];
            case BPF_ST:
                return [d];
            case BPF_STX:
                return Mode(insn.code) == BPF_ATOMIC && insn.imm == BPF_CMPXCHG ? [s, d, 0] : [s, d];
            case BPF_LD:
                return Mode(insn.code) == BPF_IND ? [s] : [];
            default:
                if (op == BPF_EXIT)
                    return [0];
                if (op == BPF_CALL)
                    return insn.src_reg == BPF_PSEUDO_CALL ? [] : Enumerable.Range(1, HelperPrototypes.Get(insn.imm)?.Args.Length ?? 0);
                if (op == BPF_JA)
                    return [];
                return isX ? [d, s] : [d];
        }
    }
}
