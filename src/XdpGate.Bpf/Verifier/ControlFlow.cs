using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The kernel's check_subprogs and check_cfg, after <see cref="InstructionValidator"/> has proven jumps in range: where
/// subprograms start, that every instruction is reachable from instruction 0 (through jumps, calls and callback
/// addresses), and where exploration may compare states (prune points: jump targets, conditional jumps, calls).
/// </summary>
internal sealed class ControlFlow
{
    private ControlFlow(int[] subprogramStarts, bool[] prunePoints, bool[] secondHalf, ReadOnlySpan<bpf_insn> insns)
    {
        SubprogramStarts = subprogramStarts;
        ChangesPacket = PacketChanges(insns);
        PrunePoints = prunePoints;
        SecondHalf = secondHalf;
    }

    /// <summary>Sorted first instructions of the main program (0) and every subprogram.</summary>
    public int[] SubprogramStarts { get; }

    public bool[] PrunePoints { get; }

    /// <summary>
    /// Per subprogram: whether it, or any subprogram it calls or passes as a callback, calls a helper that moves packet
    /// data (the kernel's changes_pkt_data): a caller's packet pointers are then stale after a call of a global function,
    /// whose body the caller does not see.
    /// </summary>
    public bool[] ChangesPacket { get; }

    /// <summary>True for the second slot of each lddw.</summary>
    public bool[] SecondHalf { get; }

    /// <summary>The index in <see cref="SubprogramStarts"/> of the subprogram holding <paramref name="pc"/>.</summary>
    public int SubprogramOf(int pc)
    {
        var i = Array.BinarySearch(SubprogramStarts, pc);
        return i >= 0 ? i : ~i - 1;
    }

    public int SubprogramEnd(int subprogram, int length) =>
        subprogram + 1 < SubprogramStarts.Length ? SubprogramStarts[subprogram + 1] : length;

    public static ControlFlow Analyze(ReadOnlySpan<bpf_insn> insns, Func<int, string, VerifierRule, Exception> fail)
    {
        var n = insns.Length;
        var secondHalf = new bool[n];
        var starts = new SortedSet<int> { 0 };
        for (var pc = 0; pc < n; pc++)
        {
            if (InstructionValidator.IsPseudoCall(insns[pc]) || InstructionValidator.IsPseudoFunc(insns[pc]))
                starts.Add(pc + 1 + insns[pc].imm);
            if (InstructionValidator.IsWide(insns[pc]))
                secondHalf[++pc] = true;
        }

        var prune = new bool[n];
        var seen = new bool[n];
        var work = new Stack<int>();
        work.Push(0);
        seen[0] = true;
        void Visit(int target)
        {
            if (!seen[target])
            {
                seen[target] = true;
                work.Push(target);
            }
        }

        while (work.Count > 0)
        {
            var pc = work.Pop();
            var insn = insns[pc];
            var cls = Class(insn.code);
            var op = Op(insn.code);
            var next = pc + (InstructionValidator.IsWide(insn) ? 2 : 1);
            if (InstructionValidator.IsPseudoFunc(insn))
                Visit(pc + 1 + insn.imm);
            if (cls is BPF_JMP or BPF_JMP32 && op == BPF_EXIT)
                continue;
            if (cls is BPF_JMP or BPF_JMP32 && op == BPF_CALL)
            {
                if (insn.src_reg == BPF_PSEUDO_CALL)
                {
                    prune[pc] = true;
                    Visit(pc + 1 + insn.imm);
                }
                else if (insn.imm == (int)Helpers.bpf_func_id.BPF_FUNC_loop)
                {
                    prune[pc] = true;
                }
                if (next < n)
                    prune[next] = true;
            }
            else if (InstructionValidator.JumpTarget(insn, pc) is { } target)
            {
                prune[target] = true;
                Visit(target);
                if (op == BPF_JA)
                    continue;
                prune[pc] = true;
            }
            if (next >= n)
                throw fail(pc, "last insn is not an exit or jmp", VerifierRule.FallsOffEnd);
            Visit(next);
        }

        for (var pc = 0; pc < n; pc++)
        {
            if (!seen[pc] && !secondHalf[pc])
                throw fail(pc, $"unreachable insn {pc}", VerifierRule.UnreachableInstruction);
        }
        return new ControlFlow([.. starts], prune, secondHalf, insns);
    }

    /// <summary>The instructions control may go to after the one at <paramref name="pc"/> within its function (a call returns to the next).</summary>
    public static IEnumerable<int> Successors(ReadOnlySpan<bpf_insn> insns, int pc)
    {
        var insn = insns[pc];
        var cls = Class(insn.code);
        var op = Op(insn.code);
        var next = pc + (InstructionValidator.IsWide(insn) ? 2 : 1);
        if (cls is BPF_JMP or BPF_JMP32 && op == BPF_EXIT)
            return [];
        if (cls is BPF_JMP or BPF_JMP32 && op != BPF_CALL && InstructionValidator.JumpTarget(insn, pc) is { } target)
            return op == BPF_JA ? [target] : next < insns.Length ? [target, next] : [target];
        return next < insns.Length ? [next] : [];
    }

    private bool[] PacketChanges(ReadOnlySpan<bpf_insn> insns)
    {
        var changes = new bool[SubprogramStarts.Length];
        var callees = new List<int>[SubprogramStarts.Length];
        for (var s = 0; s < callees.Length; s++)
        {
            callees[s] = [];
            for (var pc = SubprogramStarts[s]; pc < SubprogramEnd(s, insns.Length); pc++)
            {
                var insn = insns[pc];
                if (InstructionValidator.IsPseudoCall(insn) || InstructionValidator.IsPseudoFunc(insn))
                    callees[s].Add(SubprogramOf(pc + 1 + insn.imm));
                else if (insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == 0 && HelperPrototypes.Get(insn.imm) is { ChangesPacket: true })
                    changes[s] = true;
            }
        }
        // Calls may nest (and point back): spread the property to callers until nothing changes.
        for (var spread = true; spread;)
        {
            spread = false;
            for (var s = 0; s < changes.Length; s++)
            {
                if (!changes[s] && callees[s].Exists(c => changes[c]))
                    changes[s] = spread = true;
            }
        }
        return changes;
    }
}
