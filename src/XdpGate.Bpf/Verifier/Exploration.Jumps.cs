using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Verifier.Checks;
using XdpGate.Bpf.Verifier.Scalars;
using XdpGate.Bpf.Verifier.Transfer;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The kernel's check_cond_jmp_op: which way a branch can go, what it teaches about which values mattered, and each
/// side explored with what it learns (<see cref="BranchRefinement"/>); comparisons of pointers as the checks allow
/// (<see cref="JumpChecks"/>).
/// </summary>
internal sealed partial class Exploration
{
    private bool Jump(bpf_insn insn)
    {
        var op = Op(insn.code);
        switch (op)
        {
            case BPF_EXIT:
                return Exit();
            case BPF_CALL:
                Call(insn);
                return true;
            case BPF_JA:
                counts.Jumps++;
                pc = InstructionValidator.JumpTarget(insn, pc)!.Value;
                return true;
        }

        counts.Jumps++;
        var is32 = Class(insn.code) == BPF_JMP32;
        var isX = Source(insn.code) == BPF_X;
        int d = insn.dst_reg, s = insn.src_reg;
        var target = InstructionValidator.JumpTarget(insn, pc)!.Value;
        var dst = Read(d);
        var src = isX ? Read(s) : Immediate(insn.imm, true);

        if (!dst.IsPointer && !src.IsPointer)
        {
            var taken = ScalarBranch.IsTaken(op, dst.Var, src.Var, is32);
            if (taken is { } always)
            {
                // The operands' values chose the way (the kernel marks them precise here).
                NeedPrecise(d, isX ? s : -1);
                pc = always ? target : pc + 1;
                return true;
            }
            cur.History!.Linked = LinkedCopies(d, isX ? s : -1);
            var other = cur.Clone();
            var otherLive = BranchRefinement.RefineScalars(other, op, d, isX ? s : -1, src.Var, is32, taken: true);
            var thisLive = BranchRefinement.RefineScalars(cur, op, d, isX ? s : -1, src.Var, is32, taken: false);
            if (!otherLive || !thisLive)
                NeedPrecise(d, isX ? s : -1);
            if (otherLive)
                Push(other, target);
            if (!thisLive)
                return false;
            pc++;
            return true;
        }

        var nullCheck = op is BPF_JEQ or BPF_JNE && !is32 && (isX ? src.IsConstScalar(0) : insn.imm == 0);
        // A scalar register compared with a pointer is a null check or not by its value.
        if (isX && !(dst.IsPointer && src.IsPointer))
            NeedPrecise(d, s);
        if (nullCheck && dst.MaybeNull)
        {
            var other = cur.Clone();
            BranchRefinement.MarkNullChecked(other, dst.Id, isNull: op == BPF_JEQ);
            BranchRefinement.MarkNullChecked(cur, dst.Id, isNull: op == BPF_JNE);
            Push(other, target);
            pc++;
            return true;
        }

        JumpChecks.PointerComparison(At, d, s, dst, src, nullCheck, is32);
        if (nullCheck && dst.IsPointer)
        {
            // A pointer that cannot be null never equals zero.
            pc = op == BPF_JNE ? target : pc + 1;
            return true;
        }

        var branch = cur.Clone();
        if (BranchRefinement.PacketComparison(dst, src, is32))
            BranchRefinement.MarkPacketRanges(branch, cur, op, dst, src);
        Push(branch, target);
        pc++;
        return true;
    }

    /// <summary>
    /// The other copies (registers and spills in every frame) of the jump's operands, which the branch narrows with
    /// them: if one of them later needs its value, so do the operands (the kernel's linked registers). Null when none.
    /// </summary>
    private FrameSets? LinkedCopies(int d, int s)
    {
        var dstId = cur.Regs[d].Id;
        var srcId = s >= 0 ? cur.Regs[s].Id : 0;
        if (dstId == 0 && srcId == 0)
            return null;
        FrameSets? copies = null;
        for (var f = 0; f < cur.Frames.Count; f++)
        {
            var frame = cur.Frames[f];
            for (var r = 0; r < MAX_BPF_REG; r++)
            {
                if (f == cur.Frames.Count - 1 && (r == d || r == s))
                    continue;
                if (IsCopy(frame.Regs[r]))
                    (copies ??= new FrameSets()).Regs[f] |= (ushort)(1 << r);
            }
            for (var slot = 0; slot < FrameState.Slots; slot++)
            {
                if (frame.Bytes[slot * 8] == SlotKind.Spill && IsCopy(frame.Spills[slot]))
                    (copies ??= new FrameSets()).Slots[f] |= 1UL << slot;
            }
        }
        return copies;

        bool IsCopy(in Reg reg) => reg.Kind == RegKind.Scalar && reg.Id != 0 && (reg.Id == dstId || reg.Id == srcId);
    }
}
