using XdpGate.Bpf.Verifier.Transfer;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// Stack accesses once the checks allowed them: the frame's depth noted, the slots touched kept for backtracking and
/// learned as read or overwritten, then the spill, fill or bytes written (<see cref="StackMemory"/>).
/// </summary>
internal sealed partial class Exploration
{
    private Reg StackAccess(in Reg ptr, int off, int size, bool write, Reg value, bool signed, int from)
    {
        var frame = cur.Frames[ptr.Frame];
        var start = (long)ptr.Off + off;
        if (!ptr.Var.IsConst)
        {
            var low = start + ptr.Var.SMin;
            var high = start + ptr.Var.SMax + size;
            NoteDepth(frame, (int)low);
            Touch(ptr.Frame, low, high, write, wholeSlot: false);
            if (!write)
                return StackMemory.VariableRead(frame, MAX_BPF_STACK + (int)low, MAX_BPF_STACK + (int)high, size);
            StackMemory.VariableWrite(frame, MAX_BPF_STACK + (int)low, MAX_BPF_STACK + (int)high, value);
            return default;
        }
        start += (long)ptr.Var.ConstValue;
        NoteDepth(frame, (int)start);
        Touch(ptr.Frame, start, start + size, write, wholeSlot: write && size == 8 && start % 8 == 0);
        var index = MAX_BPF_STACK + (int)start;
        if (!write)
            return StackMemory.Read(frame, index, size, signed);
        // A scalar spilled whole gets an id shared with its register, so a branch on either narrows both (the
        // kernel's assign_scalar_id_before_mov on spill).
        if (from >= 0 && index % 8 == 0 && value.Kind == RegKind.Scalar && value.Id == 0 && (size == 8 || value.Var.UMax < 1UL << (size * 8)))
            cur.Regs[from].Id = value.Id = NewId();
        StackMemory.Write(frame, index, size, value);
        return default;
    }

    private void NoteDepth(FrameState frame, int lowest) => findings.StackUse(frame.Subprogram, lowest);

    /// <summary>
    /// Records which slots of which frame the instruction loads or stores, for backtracking; a load is learned as a
    /// read of them, and a store of one whole slot as overwriting it.
    /// </summary>
    private void Touch(int frameIndex, long low, long high, bool write, bool wholeSlot)
    {
        var slots = StackMemory.SlotMask(low, high);
        var entry = cur.History!;
        entry.StackFrame = frameIndex;
        entry.Slots = slots;
        entry.WholeSlot = wholeSlot;
        if (!write)
            Learning.MarkRead(cur, frameIndex, 0, slots);
        else if (wholeSlot)
            cur.Frames[frameIndex].Writes.Slots |= slots;
    }

    /// <summary>Slots of a frame that a helper or a constant map key reads: learned as read.</summary>
    private void MarkStackRead(int frameIndex, long low, long high) => Learning.MarkRead(cur, frameIndex, 0, StackMemory.SlotMask(low, high));
}
