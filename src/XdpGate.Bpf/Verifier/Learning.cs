using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// What a path teaches the checkpoints it came from, so pruning compares only what matters: which registers and stack
/// slots it read before overwriting them (the kernel's mark_reg_read), and which scalars' values something depended on
/// (mark_chain_precision), found by walking the path's instructions back to where each value came from. A path pruned
/// by a checkpoint learns that checkpoint's marks (propagate_liveness, propagate_precision). Marks made while a
/// bpf_loop callback's loop is still being explored may be incomplete, so pruning by checkpoints inside it compares
/// everything, and the marks are propagated again along those prunings until they settle once the loop is explored.
/// </summary>
internal sealed class Learning(bpf_insn[] insns)
{
    private const ushort Caller = 0b11_1111;    // r0-r5: written or clobbered by a call
    private const ushort Args = 0b11_1110;      // r1-r5
    private const ushort NotFramePointer = (1 << BPF_REG_FP) - 1;

    /// <summary>
    /// Registers and slots of frame <paramref name="frame"/> read by the path now at <paramref name="state"/>: marked
    /// read in every checkpoint above it up to the stretch that last overwrote them. True when a mark was new.
    /// </summary>
    public static bool MarkRead(VerifierState state, int frame, ushort regs, ulong slots)
    {
        var writes = state.Frames[frame].Writes;
        regs &= (ushort)(NotFramePointer & ~writes.Regs);
        slots &= ~writes.Slots;
        var changed = false;
        for (var c = state.Parent; c is not null && (regs | slots) != 0 && frame < c.Marks.Length; c = c.Parent)
        {
            ref var marks = ref c.Marks[frame];
            // Marked already: that mark went up as far as this one would.
            regs &= (ushort)~marks.ReadRegs;
            slots &= ~marks.ReadSlots;
            if ((regs | slots) == 0)
                break;
            marks.ReadRegs |= regs;
            marks.ReadSlots |= slots;
            changed = true;
            regs &= (ushort)~c.Writes[frame].Regs;
            slots &= ~c.Writes[frame].Slots;
        }
        return changed;
    }

    /// <summary>
    /// The values of <paramref name="want"/> (per frame, on the path at <paramref name="state"/> just after the
    /// instructions up to <paramref name="from"/>) matter: every scalar they came from is marked precise in the
    /// checkpoints above. Consumes <paramref name="want"/>. True when a mark was new.
    /// </summary>
    public bool MarkPrecise(VerifierState state, HistoryEntry? from, FrameSets want)
    {
        var changed = false;
        var entry = from;
        var next = state.Frames.Count - 1;
        var at = state.Parent;
        while (true)
        {
            for (; entry is not null; entry = entry.Previous)
            {
                Backtrack(entry, next, want);
                next = entry.Frame;
                if (want.IsEmpty)
                    return changed;
            }
            if (at is null)
                return changed;
            // Nothing new here: whatever marked it walked on up from here already.
            if (!MarkAt(at, want))
                return changed;
            changed = true;
            if (want.IsEmpty)
                return changed;
            entry = at.History;
            next = at.State.Frames.Count - 1;
            at = at.Parent;
        }
    }

    /// <summary>Registers <paramref name="regs"/> of the current frame matter just before the instruction being run.</summary>
    public bool MarkPrecise(VerifierState state, ushort regs, ulong slots = 0, int frame = -1)
    {
        var want = new FrameSets();
        frame = frame < 0 ? state.Frames.Count - 1 : frame;
        want.Regs[frame] = (ushort)(regs & NotFramePointer);
        want.Slots[frame] = slots;
        return MarkPrecise(state, state.History?.Previous, want);
    }

    /// <summary>A path pruned by <paramref name="by"/> reads and needs precise what every path from <paramref name="by"/> does.</summary>
    public bool Propagate(Checkpoint by, VerifierState pruned)
    {
        var changed = false;
        var want = new FrameSets();
        for (var f = 0; f < by.Marks.Length && f < pruned.Frames.Count; f++)
        {
            changed |= MarkRead(pruned, f, by.Marks[f].ReadRegs, by.Marks[f].ReadSlots);
            want.Regs[f] = by.Marks[f].PreciseRegs;
            want.Slots[f] = by.Marks[f].PreciseSlots;
        }
        return MarkPrecise(pruned, pruned.History, want) | changed;
    }

    /// <summary>
    /// A path pruned by a checkpoint whose marks are not complete yet: kept with the loop, to learn the final marks once
    /// the loop is explored (<see cref="Settle"/>).
    /// </summary>
    public static void KeepLoopEdge(Checkpoint by, VerifierState pruned)
    {
        if (by.MarksComplete)
            return;
        var entry = by.LoopEntry ?? by;
        (entry.LoopEdges ??= []).Add((by, pruned));
    }

    /// <summary>Every path through the loop at <paramref name="entry"/> is explored: its pruned paths learn the marks until nothing changes.</summary>
    public void Settle(Checkpoint entry)
    {
        if (entry.LoopEdges is { } edges)
        {
            bool changed;
            do
            {
                changed = false;
                foreach (var (by, pruned) in edges)
                    changed |= Propagate(by, pruned);
            }
            while (changed);
            entry.LoopEdges = null;
        }
        entry.Settled = true;
    }

    /// <summary>Marks what <paramref name="want"/> holds precise at a checkpoint; drops what is no scalar there. True when a mark was new.</summary>
    private static bool MarkAt(Checkpoint at, FrameSets want)
    {
        var added = false;
        for (var f = 0; f < want.Regs.Length; f++)
        {
            if (want.Regs[f] == 0 && want.Slots[f] == 0)
                continue;
            if (f >= at.Marks.Length)
            {
                want.Regs[f] = 0;
                want.Slots[f] = 0;
                continue;
            }
            var frame = at.State.Frames[f];
            ref var marks = ref at.Marks[f];
            for (var r = 0; r < MAX_BPF_REG; r++)
            {
                var bit = (ushort)(1 << r);
                if ((want.Regs[f] & bit) == 0)
                    continue;
                if (frame.Regs[r].Kind != RegKind.Scalar)
                    want.Regs[f] &= (ushort)~bit;
                else if ((marks.PreciseRegs & bit) == 0)
                {
                    marks.PreciseRegs |= bit;
                    added = true;
                }
            }
            for (var s = 0; s < FrameState.Slots; s++)
            {
                var bit = 1UL << s;
                if ((want.Slots[f] & bit) == 0)
                    continue;
                if (!HoldsNumber(frame, s))
                    want.Slots[f] &= ~bit;
                else if ((marks.PreciseSlots & bit) == 0)
                {
                    marks.PreciseSlots |= bit;
                    added = true;
                }
            }
        }
        return added;
    }

    /// <summary>Whether a slot holds something whose value may matter: a spilled scalar, or bytes written with numbers.</summary>
    private static bool HoldsNumber(FrameState frame, int slot)
    {
        if (frame.Bytes[slot * 8] == SlotKind.Spill)
            return frame.Spills[slot].Kind == RegKind.Scalar;
        for (var i = slot * 8; i < slot * 8 + 8; i++)
        {
            if (frame.Bytes[i] != SlotKind.Invalid)
                return true;
        }
        return false;
    }

    /// <summary>
    /// The kernel's backtrack_insn: what <paramref name="want"/> held after instruction <paramref name="e"/> came from
    /// before it. <paramref name="next"/> is the frame of the instruction that ran after it.
    /// </summary>
    private void Backtrack(HistoryEntry e, int next, FrameSets want)
    {
        var insn = insns[e.Pc];
        var f = e.Frame;
        if (next > f)
        {
            // It entered frame f + 1: a static function's arguments are the caller's r1-r5; a bpf_loop callback's r2 is
            // the caller's r3 (r1 is the loop index).
            var callee = want.Regs[f + 1];
            want.Regs[f + 1] = 0;
            want.Slots[f + 1] = 0;
            if (insn.src_reg == BPF_PSEUDO_CALL)
                want.Regs[f] = (ushort)((want.Regs[f] & ~Caller) | (callee & Args));
            else if ((callee & (1 << 2)) != 0)
                want.Regs[f] |= 1 << 3;
            return;
        }
        if (next < f)
        {
            // An exit back to the caller: r0 there is the callee's r0, unless a callback run ended.
            if (!e.EndsCallback && (want.Regs[f - 1] & 1) != 0)
            {
                want.Regs[f - 1] &= unchecked((ushort)~1);
                want.Regs[f] |= 1;
            }
            return;
        }

        var dst = (ushort)(1 << insn.dst_reg);
        var src = (ushort)(1 << insn.src_reg);
        var isX = Source(insn.code) == BPF_X;
        var op = Op(insn.code);
        ref var regs = ref want.Regs[f];
        switch (Class(insn.code))
        {
            case BPF_ALU:
            case BPF_ALU64:
                if ((regs & dst) == 0)
                    break;
                if (op == BPF_MOV)
                    regs = (ushort)((regs & ~dst) | (isX ? src : 0));
                else if (isX && op is not (BPF_NEG or BPF_END))
                    regs |= src;
                break;
            case BPF_LDX:
                if ((regs & dst) == 0)
                    break;
                regs &= (ushort)~dst;
                if (e.StackFrame >= 0)
                    want.Slots[e.StackFrame] |= e.Slots;
                break;
            case BPF_ST:
            case BPF_STX:
                Store(e, insn, want, ref regs, src);
                break;
            case BPF_LD:
                // lddw: a constant or a pointer; LD_ABS/IND: packet bytes in r0, r1-r5 clobbered.
                regs &= InstructionValidator.IsWide(insn) ? (ushort)~dst : unchecked((ushort)~Caller);
                break;
            default:
                if (op == BPF_CALL)
                {
                    // A helper or a global function: r0 is what it returned, r1-r5 are gone.
                    regs &= unchecked((ushort)~Caller);
                    break;
                }
                if (op is BPF_JA or BPF_EXIT)
                    break;
                var uses = (ushort)(dst | (isX ? src : 0));
                // A branch narrows every copy of its operands; and comparing two registers bounds each by the other.
                if (e.Linked is { } linked && want.Intersects(linked))
                {
                    want.Add(linked);
                    regs |= uses;
                }
                else if (isX && (regs & uses) != 0)
                {
                    regs |= uses;
                }
                break;
        }
    }

    private static void Store(HistoryEntry e, bpf_insn insn, FrameSets want, ref ushort regs, ushort src)
    {
        var stx = Class(insn.code) == BPF_STX;
        if (Mode(insn.code) == BPF_ATOMIC)
        {
            // A fetch loads the old value into src (r0 for cmpxchg): it came from memory.
            var fetched = (ushort)(insn.imm == BPF_CMPXCHG ? 1 : (insn.imm & BPF_FETCH) != 0 ? src : 0);
            if ((regs & fetched) != 0)
            {
                regs &= (ushort)~fetched;
                if (e.StackFrame >= 0)
                    want.Slots[e.StackFrame] |= e.Slots;
            }
            // What the memory holds after depends on it before, and on src (and r0, which cmpxchg compares).
            if (e.StackFrame >= 0 && (want.Slots[e.StackFrame] & e.Slots) != 0)
                regs |= (ushort)(src | (insn.imm == BPF_CMPXCHG ? 1 : 0));
            return;
        }
        if (e.StackFrame < 0 || (want.Slots[e.StackFrame] & e.Slots) == 0)
            return;
        if (e.WholeSlot)
            want.Slots[e.StackFrame] &= ~e.Slots;
        if (stx)
            regs |= src;
    }
}
