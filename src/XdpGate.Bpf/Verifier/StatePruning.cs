using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The kernel's states_equal: whether a checkpoint's state covers the current one. Where the checkpoint's marks are
/// complete (<see cref="Checkpoint.MarksComplete"/>), only the registers and slots some path from it read are compared,
/// and only the scalars whose values mattered need their ranges to include the current ones; otherwise (a state inside a
/// loop still being explored) every scalar is compared by range (the kernel's RANGE_WITHIN), and everything is compared
/// but in the frames whose read marks are complete already (<see cref="Checkpoint.ReadsCompleteFrom"/>).
/// </summary>
internal static class StatePruning
{
    /// <summary>A cheap hash of the registers of the current frame, so loop checks compare few states in full.</summary>
    public static int Hash(VerifierState state)
    {
        var hash = new HashCode();
        hash.Add(state.Frames.Count);
        foreach (var reg in state.Regs)
            hash.Add(reg);
        return hash.ToHashCode();
    }

    /// <summary>Whether the two states are the same in every register and every stack byte: the path has looped to where it was.</summary>
    public static bool Same(VerifierState old, VerifierState cur)
    {
        if (old.Frames.Count != cur.Frames.Count || old.References.Count != cur.References.Count || old.CallbackRuns != cur.CallbackRuns)
            return false;
        for (var f = 0; f < cur.Frames.Count; f++)
        {
            var a = old.Frames[f];
            var b = cur.Frames[f];
            if (a.CallSite != b.CallSite)
                return false;
            for (var r = 0; r < MAX_BPF_REG; r++)
            {
                if (!a.Regs[r].Equals(b.Regs[r]))
                    return false;
            }
            if (!a.Bytes.SequenceEqual(b.Bytes))
                return false;
            for (var s = 0; s < FrameState.Slots; s++)
            {
                if (a.Bytes[s * 8] == SlotKind.Spill && !a.Spills[s].Equals(b.Spills[s]))
                    return false;
            }
        }
        return true;
    }

    /// <summary>Whether every concrete state <paramref name="cur"/> stands for is one the checkpoint's state stands for (as far as the rest of the program can tell).</summary>
    public static bool Covers(Checkpoint checkpoint, VerifierState cur)
    {
        var old = checkpoint.State;
        if (old.Frames.Count != cur.Frames.Count || old.References.Count != cur.References.Count)
            return false;
        var marked = checkpoint.MarksComplete;
        // Inside a loop still open, a done checkpoint's read marks already hold for the frames its callback runs entered.
        var readFrom = marked ? 0 : checkpoint.Done ? checkpoint.ReadsCompleteFrom : int.MaxValue;
        var ids = IdMap.Rent();
        try
        {
            return Covers(checkpoint, cur, marked, readFrom, ids);
        }
        finally
        {
            ids.Return();
        }
    }

    private static bool Covers(Checkpoint checkpoint, VerifierState cur, bool marked, int readFrom, IdMap ids)
    {
        var old = checkpoint.State;
        for (var i = 0; i < old.References.Count; i++)
        {
            if (!ids.Match(old.References[i], cur.References[i]))
                return false;
        }
        for (var f = 0; f < cur.Frames.Count; f++)
        {
            var a = old.Frames[f];
            var b = cur.Frames[f];
            if (a.CallSite != b.CallSite || a.IsCallback != b.IsCallback)
                return false;
            var marks = checkpoint.Marks[f];
            var read = f >= readFrom;
            var live = read ? (ushort)(marks.ReadRegs | (1 << BPF_REG_FP)) : ushort.MaxValue;
            var precise = marked ? marks.PreciseRegs : ushort.MaxValue;
            for (var r = 0; r < MAX_BPF_REG; r++)
            {
                var bit = 1 << r;
                if ((live & bit) == 0)
                    continue;
                if (!RegCovers(a.Regs[r], b.Regs[r], (precise & bit) != 0, ids))
                    return false;
            }
            if (!StackCovers(a, b, ids, marked ? marks.PreciseSlots : ulong.MaxValue, read ? marks.ReadSlots : ulong.MaxValue))
                return false;
        }
        return true;
    }

    /// <summary>Spilled scalars of <paramref name="cur"/> that <paramref name="old"/>'s do not cover become unknown (sound: more values, not fewer).</summary>
    public static void WidenSpills(VerifierState old, VerifierState cur)
    {
        if (old.Frames.Count != cur.Frames.Count)
            return;
        for (var f = 0; f < cur.Frames.Count; f++)
        {
            var a = old.Frames[f];
            var b = cur.Frames[f];
            for (var s = 0; s < FrameState.Slots; s++)
            {
                if (a.Bytes[s * 8] == SlotKind.Spill && b.Bytes[s * 8] == SlotKind.Spill && a.Spills[s].Kind == RegKind.Scalar
                    && b.Spills[s].Kind == RegKind.Scalar && !b.Spills[s].Var.IsWithin(a.Spills[s].Var))
                    b.WritableSpills[s] = Reg.Unknown;
            }
        }
    }

    /// <summary>Bytes that read back as some number: unknown, zero, or part of a spilled scalar.</summary>
    private static bool IsNumber(FrameState frame, int i) =>
        frame.Bytes[i] is SlotKind.Misc or SlotKind.Zero || (frame.Bytes[i] == SlotKind.Spill && frame.Spills[i / 8].Kind == RegKind.Scalar);

    private static bool StackCovers(FrameState a, FrameState b, IdMap ids, ulong preciseSlots, ulong liveSlots)
    {
        // A slot no path reads again before overwriting it may hold anything.
        for (var slots = liveSlots; slots != 0; slots &= slots - 1)
        {
            var slot = System.Numerics.BitOperations.TrailingZeroCount(slots);
            var precise = (preciseSlots & (1UL << slot)) != 0;
            for (var i = slot * 8; i < slot * 8 + 8; i++)
            {
                var old = a.Bytes[i];
                var cur = b.Bytes[i];
                // A slot whose value cannot matter only has to hold a number in both states, as an imprecise scalar.
                if (!precise && old != SlotKind.Invalid && IsNumber(a, i) && IsNumber(b, i))
                    continue;
                switch (old)
                {
                    case SlotKind.Invalid:
                        continue;
                    case SlotKind.Misc:
                        if (cur is SlotKind.Misc or SlotKind.Zero || (cur == SlotKind.Spill && b.Spills[slot].Kind == RegKind.Scalar))
                            continue;
                        return false;
                    case SlotKind.Zero:
                        if (cur == SlotKind.Zero || (cur == SlotKind.Spill && b.Spills[slot].IsConstScalar(0)))
                            continue;
                        return false;
                    default:
                        if (cur != SlotKind.Spill)
                            return false;
                        if (i % 8 == 0 && !RegCovers(a.Spills[slot], b.Spills[slot], true, ids))
                            return false;
                        continue;
                }
            }
        }
        return true;
    }

    private static bool RegCovers(in Reg old, in Reg cur, bool precise, IdMap ids)
    {
        if (old.Kind == RegKind.NotInit)
            return true;
        if (old.Kind != cur.Kind)
            return false;
        // An imprecise scalar may be any number, linked or not: were a copy's value to matter, it would be precise too.
        if (old.Kind == RegKind.Scalar)
            return !precise || (cur.Var.IsWithin(old.Var) && ids.Linked(old.Id, cur.Id));
        if (old.Off != cur.Off || !ReferenceEquals(old.Map, cur.Map) || old.MemSize != cur.MemSize || old.Frame != cur.Frame
            || !cur.Var.IsWithin(old.Var))
            return false;
        if (old.RefId != 0 && !ids.Match(old.RefId, cur.RefId))
            return false;
        if (old.IsPacket)
            return cur.Range >= old.Range && ids.Match(old.Id, cur.Id);
        return !old.MaybeNull || ids.Match(old.Id, cur.Id);
    }

    /// <summary>The kernel's check_ids: ids in the old state must map one-to-one onto ids in the new one.</summary>
    private sealed class IdMap
    {
        // A comparison meets few ids: pairs in an array searched in order, kept per thread for the next comparison.
        [ThreadStatic]
        private static IdMap? spare;

        private (int Old, int Cur)[] pairs = new (int, int)[16];
        private int count;
        private int unlinked;

        public static IdMap Rent()
        {
            var map = spare ?? new IdMap();
            spare = null;
            map.count = 0;
            map.unlinked = 0;
            return map;
        }

        public void Return() => spare = this;

        /// <summary>Scalars linked in the old state must be linked alike in the new one; an unlinked scalar (id 0) links to nothing.</summary>
        public bool Linked(int old, int cur) => old == 0 || Match(old, cur == 0 ? --unlinked : cur);

        public bool Match(int old, int cur)
        {
            for (var i = 0; i < count; i++)
            {
                if (pairs[i].Old == old)
                    return pairs[i].Cur == cur;
                if (pairs[i].Cur == cur)
                    return false;
            }
            if (count == pairs.Length)
                Array.Resize(ref pairs, count * 2);
            pairs[count++] = (old, cur);
            return true;
        }
    }
}
