using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Verifier.Scalars;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The kernel's check_cond_jmp_op: which way a branch can go, what each side learns about scalars, null checks of
/// map lookups, and packet range proofs from comparisons against data_end.
/// </summary>
internal sealed partial class Exploration
{
    /// <summary>The kernel's MAX_PACKET_OFF: ranges are proven only for offsets below it.</summary>
    private const int MaxPacketOff = 0xffff;

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
            var otherLive = RefineScalars(other, op, d, isX ? s : -1, src.Var, is32, taken: true);
            var thisLive = RefineScalars(cur, op, d, isX ? s : -1, src.Var, is32, taken: false);
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
            MarkNullChecked(other, dst.Id, isNull: op == BPF_JEQ);
            MarkNullChecked(cur, dst.Id, isNull: op == BPF_JNE);
            Push(other, target);
            pc++;
            return true;
        }

        var packets = PacketComparison(dst, src, is32);
        // Packet pointers compared with each other reveal lengths, never addresses.
        // Null checks of what a lookup or reservation returned are habit even where the result cannot be null.
        var lookupNullCheck = nullCheck && dst.Kind is RegKind.MapValue or RegKind.Mem;
        if (!packets && !lookupNullCheck && Strict)
            throw Fail(VerifierRule.PointerComparison, $"R{(dst.IsPointer ? d : s)} pointer comparison prohibited", d, s);
        if (nullCheck && dst.IsPointer)
        {
            // A pointer that cannot be null never equals zero.
            pc = op == BPF_JNE ? target : pc + 1;
            return true;
        }

        var branch = cur.Clone();
        if (packets)
            MarkPacketRanges(branch, cur, op, dst, src);
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

    /// <summary>Narrows both operands for one side of the branch, and every register sharing their ids; false when that side is impossible.</summary>
    private static bool RefineScalars(VerifierState state, byte op, int d, int s, Scalar immediate, bool is32, bool taken)
    {
        var regs = state.Regs;
        var dst = regs[d].Var;
        var src = s >= 0 ? regs[s].Var : immediate;
        if (!ScalarBranch.Refine(op, ref dst, ref src, is32, taken))
            return false;
        Narrow(state, d, dst);
        if (s >= 0)
            Narrow(state, s, src);
        return true;
    }

    private static void Narrow(VerifierState state, int r, Scalar value)
    {
        var id = state.Regs[r].Id;
        state.Regs[r].Var = value;
        if (id == 0)
            return;
        state.ForEachReg(reg => reg.Kind == RegKind.Scalar && reg.Id == id, (ref Reg reg) => reg.Var = value);
    }

    /// <summary>The kernel's mark_ptr_or_null_regs: every copy of a checked pointer becomes null (0) or the pointer proper.</summary>
    private static void MarkNullChecked(VerifierState state, int id, bool isNull)
    {
        var released = 0;
        state.ForEachReg(reg => reg.MaybeNull && reg.Id == id, (ref Reg reg) =>
        {
            if (isNull)
            {
                released = reg.RefId;
                reg = Reg.Const(0);
            }
            else
            {
                reg.Kind = reg.Kind == RegKind.MapValueOrNull ? RegKind.MapValue : RegKind.Mem;
            }
        });
        // A reservation that failed holds nothing to release.
        if (released != 0)
            state.References.Remove(released);
    }

    /// <summary>Whether this compares a packet pointer with its bound: pkt with pkt_end, or pkt_meta with pkt.</summary>
    private static bool PacketComparison(in Reg dst, in Reg src, bool is32) =>
        !is32 && (IsBoundedBy(dst, src) || IsBoundedBy(src, dst));

    private static bool IsBoundedBy(in Reg ptr, in Reg bound) =>
        (ptr.Kind == RegKind.Packet && bound.Kind == RegKind.PacketEnd) || (ptr.Kind == RegKind.PacketMeta && bound.Kind == RegKind.Packet);

    /// <summary>
    /// The kernel's try_match_pkt_pointers: on the side where <c>pkt + off &lt;= pkt_end</c> holds, every copy of the
    /// pointer may access <c>off</c> bytes (one more when the comparison was strict).
    /// </summary>
    private static void MarkPacketRanges(VerifierState taken, VerifierState fallthrough, byte op, in Reg dst, in Reg src)
    {
        if (IsBoundedBy(dst, src))
        {
            // pkt' OP pkt_end
            switch (op)
            {
                case BPF_JGT: ProveRange(fallthrough, dst, rightOpen: false); break;
                case BPF_JLT: ProveRange(taken, dst, rightOpen: true); break;
                case BPF_JGE: ProveRange(fallthrough, dst, rightOpen: true); break;
                case BPF_JLE: ProveRange(taken, dst, rightOpen: false); break;
            }
        }
        else
        {
            // pkt_end OP pkt'
            switch (op)
            {
                case BPF_JGT: ProveRange(taken, src, rightOpen: true); break;
                case BPF_JLT: ProveRange(fallthrough, src, rightOpen: false); break;
                case BPF_JGE: ProveRange(taken, src, rightOpen: false); break;
                case BPF_JLE: ProveRange(fallthrough, src, rightOpen: true); break;
            }
        }
    }

    private static void ProveRange(VerifierState state, Reg ptr, bool rightOpen)
    {
        if (ptr.Off < 0 || (ptr.Off == 0 && rightOpen))
            return;
        if (ptr.Var.UMax > MaxPacketOff || ptr.Var.UMax + (ulong)ptr.Off > MaxPacketOff)
            return;
        var range = ptr.Off + (rightOpen ? 1 : 0);
        state.ForEachReg(reg => reg.Kind == ptr.Kind && reg.Id == ptr.Id, (ref Reg reg) => reg.Range = Math.Max(reg.Range, range));
    }
}
