using XdpGate.Bpf.Verifier.Scalars;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier.Transfer;

/// <summary>
/// What stack accesses do to a frame's stack, once the checks allowed them (<see cref="Checks.StackChecks"/>): spills
/// and fills of whole registers in 8-byte slots, byte-by-byte tracking of what was written, and what reads give.
/// Indexes count from MAX_BPF_STACK below the frame pointer (offsets -512..-1 are 0..511).
/// </summary>
internal static class StackMemory
{
    /// <summary>The slots (bit = (MAX_BPF_STACK + offset) / 8) holding the bytes [low, high) below the frame pointer.</summary>
    public static ulong SlotMask(long low, long high)
    {
        var first = (int)(MAX_BPF_STACK + low) / 8;
        var last = (int)(MAX_BPF_STACK + high - 1) / 8;
        return (ulong.MaxValue << first) & (last == 63 ? ulong.MaxValue : (1UL << (last + 1)) - 1);
    }

    /// <summary>How many bytes from the start of <paramref name="slot"/> hold a spilled register.</summary>
    public static int SpillSize(FrameState frame, int slot)
    {
        var size = 0;
        while (size < 8 && frame.Bytes[slot * 8 + size] == SlotKind.Spill)
            size++;
        return size;
    }

    /// <summary>Whether a read of <paramref name="size"/> bytes at <paramref name="index"/> reads from the start of one spill, within it.</summary>
    public static bool ReadsSpill(FrameState frame, int index, int size) =>
        frame.Bytes[index] == SlotKind.Spill && index % 8 == 0 && size <= SpillSize(frame, index / 8);

    /// <summary>Whether such a read gives back the spilled register itself: all of it, unsigned, with a value that fits.</summary>
    public static bool FillsWhole(FrameState frame, int index, int size, bool signed)
    {
        var slot = index / 8;
        return size == SpillSize(frame, slot) && (size == 8 || frame.Spills[slot].Var.UMax < 1UL << (size * 8)) && !signed;
    }

    /// <summary>A store at a constant offset.</summary>
    public static void Write(FrameState frame, int index, int size, in Reg value)
    {
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

    /// <summary>A load at a constant offset.</summary>
    public static Reg Read(FrameState frame, int index, int size, bool signed)
    {
        if (!ReadsSpill(frame, index, size))
            return ReadBytes(frame, index, index + size, size, signed);
        var spilled = frame.Spills[index / 8];
        if (FillsWhole(frame, index, size, signed))
            return spilled.Kind == RegKind.Scalar && size < 8 ? Reg.Of(spilled.Var) : spilled;
        if (spilled.IsPointer)
            return Reg.Unknown;
        // The low bytes of a spilled constant are known (little-endian); anything else is just a number of that size.
        if (spilled.Var.IsConst)
        {
            var bits = size * 8;
            var low = spilled.Var.ConstValue & ((1UL << bits) - 1);
            return Reg.Const(signed ? (ulong)((long)(low << (64 - bits)) >> (64 - bits)) : low);
        }
        return Reg.Of(ScalarAlu.Load(size, signed));
    }

    /// <summary>A load at a variable offset, of bytes [<paramref name="from"/>, <paramref name="to"/>): zero when all are zero.</summary>
    public static Reg VariableRead(FrameState frame, int from, int to, int size) =>
        ReadBytes(frame, from, to, size, signed: false) is { Kind: RegKind.Scalar, Var.IsConst: true } zero ? zero : Reg.Unknown;

    /// <summary>A store at a variable offset: any byte of [<paramref name="from"/>, <paramref name="to"/>) may have been written.</summary>
    public static void VariableWrite(FrameState frame, int from, int to, in Reg value)
    {
        // Each byte becomes unknown (zero stays zero when zero is written).
        ScrubSpills(frame, from, to);
        var bytes = frame.WritableBytes;
        for (var i = from; i < to; i++)
            bytes[i] = value.IsConstScalar(0) && bytes[i] == SlotKind.Zero ? SlotKind.Zero : SlotKind.Misc;
    }

    /// <summary>The bytes [Low, High) below the frame pointer a helper may touch through <paramref name="reg"/>, given <paramref name="size"/>.</summary>
    public static (long Low, long High) HelperRange(in Reg reg, long size) => (reg.Off + reg.Var.SMin, reg.Off + (long)reg.Var.UMax + size);

    /// <summary>Stack memory a helper fills, bytes [<paramref name="low"/>, <paramref name="high"/>) below the frame pointer: whatever was there becomes unknown bytes.</summary>
    public static void HelperWrite(FrameState frame, int low, int high)
    {
        var from = MAX_BPF_STACK + low;
        var to = MAX_BPF_STACK + high;
        ScrubSpills(frame, from, to);
        frame.WritableBytes.Slice(from, to - from).Fill(SlotKind.Misc);
    }

    /// <summary>Bytes that are not one whole spill: zeros give 0, anything else a number of that size.</summary>
    private static Reg ReadBytes(FrameState frame, int from, int to, int size, bool signed)
    {
        var allZero = true;
        for (var i = from; i < to; i++)
        {
            var kind = frame.Bytes[i];
            allZero &= kind == SlotKind.Zero || (kind == SlotKind.Spill && frame.Spills[i / 8].IsConstScalar(0));
        }
        return allZero ? Reg.Const(0) : Reg.Of(ScalarAlu.Load(size, signed));
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
}
