using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// Stack accesses (the kernel's check_stack_read/write with fixed and variable offsets): spills and fills of whole
/// registers in 8-byte slots, byte-by-byte tracking of what was written, and reads of bytes never written.
/// </summary>
internal sealed partial class Exploration
{
    private Reg StackAccess(int b, in Reg ptr, int off, int size, bool write, Reg value, bool signed, int from)
    {
        var frame = cur.Frames[ptr.Frame];
        var start = (long)ptr.Off + off;
        var verb = write ? "write to" : "read from";
        if (!ptr.Var.IsConst)
        {
            var low = start + ptr.Var.SMin;
            var high = start + ptr.Var.SMax + size;
            if (low < -MAX_BPF_STACK || high > 0 || ptr.Var.SMin == long.MinValue || ptr.Var.SMax == long.MaxValue)
                throw Fail(VerifierRule.InvalidStackAccess, $"invalid variable-offset {(write ? "write to" : "read from")} stack R{b} off={start} size={size}", b);
            NoteDepth(frame, (int)low);
            Touch(ptr.Frame, low, high, write, wholeSlot: false);
            return VariableStackAccess(b, frame, (int)low, (int)high, size, write, value);
        }
        start += (long)ptr.Var.ConstValue;
        // The kernel checks stack alignment even where unaligned access is cheap.
        if (start % size != 0)
            throw Fail(VerifierRule.InvalidStackAccess, $"misaligned stack access off {(long)ptr.Var.ConstValue}+{ptr.Off}+{off} size {size}", b);
        if (start < -MAX_BPF_STACK || start + size > 0)
            throw Fail(VerifierRule.InvalidStackAccess, $"invalid {verb} stack R{b} off={start} size={size}", b);
        NoteDepth(frame, (int)start);
        Touch(ptr.Frame, start, start + size, write, wholeSlot: write && size == 8 && start % 8 == 0);
        var index = MAX_BPF_STACK + (int)start;
        if (write)
        {
            if (value.Kind == RegKind.Stack && value.Frame > ptr.Frame)
                throw Fail(VerifierRule.InvalidStackAccess, "cannot spill pointers to stack into stack frame of the caller", b);
            // A scalar spilled whole gets an id shared with its register, so a branch on either narrows both (the
            // kernel's assign_scalar_id_before_mov on spill).
            if (from >= 0 && index % 8 == 0 && value.Kind == RegKind.Scalar && value.Id == 0 && (size == 8 || value.Var.UMax < 1UL << (size * 8)))
                cur.Regs[from].Id = value.Id = NewId();
            WriteStack(frame, index, size, value);
            return default;
        }
        return ReadStack(b, frame, index, size, signed);
    }

    private void NoteDepth(FrameState frame, int lowest) => findings.StackUse(frame.Subprogram, lowest);

    /// <summary>
    /// Records which slots of which frame the instruction loads or stores, for backtracking; a load is learned as a
    /// read of them, and a store of one whole slot as overwriting it.
    /// </summary>
    private void Touch(int frameIndex, long low, long high, bool write, bool wholeSlot)
    {
        var slots = SlotMask(low, high);
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
    private void MarkStackRead(int frameIndex, long low, long high) => Learning.MarkRead(cur, frameIndex, 0, SlotMask(low, high));

    /// <summary>The slots (bit = (MAX_BPF_STACK + offset) / 8) holding the bytes [low, high) below the frame pointer.</summary>
    private static ulong SlotMask(long low, long high)
    {
        var first = (int)(MAX_BPF_STACK + low) / 8;
        var last = (int)(MAX_BPF_STACK + high - 1) / 8;
        return (ulong.MaxValue << first) & (last == 63 ? ulong.MaxValue : (1UL << (last + 1)) - 1);
    }

    private void WriteStack(FrameState frame, int index, int size, in Reg value)
    {
        if (value.IsPointer && size != 8)
            throw Fail(VerifierRule.InvalidStackAccess, "invalid size of register spill");
        ScrubSpills(frame, index, index + size);
        var slot = index / 8;
        // Like the kernel for a capable loader: any write at the start of a slot keeps what was written (a scalar of
        // any width, or a whole pointer), so fills and constant map keys see it again.
        if (index % 8 == 0)
        {
            // A narrow spill of a scalar that fits keeps its id, so a branch on the register narrows the spill too (the
            // kernel's save_register_state); one that does not fit is cut, and no copy of the register any more.
            frame.WritableSpills[slot] = value.Kind == RegKind.Scalar && size < 8 && value.Var.UMax >= 1UL << (size * 8) ? Reg.Of(value.Var) : value;
            frame.WritableBytes.Slice(index, size).Fill(SlotKind.Spill);
            return;
        }
        frame.WritableBytes.Slice(index, size).Fill(value.IsConstScalar(0) ? SlotKind.Zero : SlotKind.Misc);
    }

    /// <summary>A write into part of a spilled register leaves the rest of its slot as unknown bytes.</summary>
    private static void ScrubSpills(FrameState frame, int from, int to)
    {
        for (var slot = from / 8; slot * 8 < to; slot++)
        {
            if (frame.Bytes[slot * 8] == SlotKind.Spill)
            {
                frame.WritableBytes.Slice(slot * 8, 8).Fill(SlotKind.Misc);
                frame.WritableSpills[slot] = default;
            }
        }
    }

    private Reg ReadStack(int b, FrameState frame, int index, int size, bool signed)
    {
        var slot = index / 8;
        if (frame.Bytes[index] == SlotKind.Spill && index % 8 == 0 && size <= SpillSize(frame, slot))
        {
            var spilled = frame.Spills[slot];
            if (size == SpillSize(frame, slot) && (size == 8 || spilled.Var.UMax < 1UL << (size * 8)) && !signed)
                return spilled.Kind == RegKind.Scalar && size < 8 ? Reg.Of(spilled.Var) : spilled;
            if (spilled.IsPointer)
            {
                if (Strict)
                    throw Fail(VerifierRule.PointerLeak, $"leaking pointer from stack off {index - MAX_BPF_STACK}", b);
                return Reg.Unknown;
            }
            // The low bytes of a spilled constant are known (little-endian); anything else is just a number of that size.
            if (index % 8 == 0 && spilled.Var.IsConst)
            {
                var bits = size * 8;
                var low = spilled.Var.ConstValue & ((1UL << bits) - 1);
                return Reg.Const(signed ? (ulong)((long)(low << (64 - bits)) >> (64 - bits)) : low);
            }
            return Reg.Of(LoadedValue(size, signed));
        }
        return ReadBytes(b, frame, index, index + size, size, signed);
    }

    private static int SpillSize(FrameState frame, int slot)
    {
        var size = 0;
        while (size < 8 && frame.Bytes[slot * 8 + size] == SlotKind.Spill)
            size++;
        return size;
    }

    /// <summary>Reads bytes that are not one whole spill: zeros give 0, unwritten bytes are refused in strict mode.</summary>
    private Reg ReadBytes(int b, FrameState frame, int from, int to, int size, bool signed)
    {
        var allZero = true;
        for (var i = from; i < to; i++)
        {
            var kind = frame.Bytes[i];
            if (kind == SlotKind.Invalid && Strict)
                throw Fail(VerifierRule.UninitializedStackRead, $"invalid read from stack R{b} off {from - MAX_BPF_STACK}+{i - from} size {to - from}", b);
            if (kind == SlotKind.Spill && frame.Spills[i / 8].IsPointer && Strict)
                throw Fail(VerifierRule.PointerLeak, $"leaking pointer from stack off {i - MAX_BPF_STACK}", b);
            allZero &= kind == SlotKind.Zero || (kind == SlotKind.Spill && frame.Spills[i / 8].IsConstScalar(0));
        }
        return allZero ? Reg.Const(0) : Reg.Of(LoadedValue(size, signed));
    }

    private Reg VariableStackAccess(int b, FrameState frame, int low, int high, int size, bool write, in Reg value)
    {
        var from = MAX_BPF_STACK + low;
        var to = MAX_BPF_STACK + high;
        if (!write)
            return ReadBytes(b, frame, from, to, size, signed: false) is { Kind: RegKind.Scalar, Var.IsConst: true } zero
                ? zero
                : Reg.Unknown;
        if (value.IsPointer)
            throw Fail(VerifierRule.InvalidStackAccess, "spilled ptr in range of var-offset stack write", b);
        // Any byte in the range may have been written: each becomes unknown (zero stays zero when zero is written).
        ScrubSpills(frame, from, to);
        var bytes = frame.WritableBytes;
        for (var i = from; i < to; i++)
            bytes[i] = value.IsConstScalar(0) && bytes[i] == SlotKind.Zero ? SlotKind.Zero : SlotKind.Misc;
        return default;
    }

    /// <summary>Stack memory a helper reads (key, value, buffer): every byte in range, and written first in strict mode.</summary>
    private void HelperStackRead(int r, FrameState frame, int low, int high) =>
        ReadBytes(r, frame, MAX_BPF_STACK + low, MAX_BPF_STACK + high, 8, signed: false);

    /// <summary>Stack memory a helper fills: whatever was there becomes unknown bytes.</summary>
    private static void HelperStackWrite(FrameState frame, int low, int high)
    {
        var from = MAX_BPF_STACK + low;
        var to = MAX_BPF_STACK + high;
        ScrubSpills(frame, from, to);
        frame.WritableBytes.Slice(from, to - from).Fill(SlotKind.Misc);
    }
}
