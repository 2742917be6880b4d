using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// One instruction a path ran (the kernel's jmp_history, kept for every instruction): what backtracking needs to walk
/// a path back and find where a value came from. Entries form a list from the newest back to the first instruction
/// after the path's last checkpoint; a branch shares its prefix with the path it left.
/// </summary>
internal sealed class HistoryEntry(HistoryEntry? previous, int pc, int frame)
{
    public readonly HistoryEntry? Previous = previous;
    public readonly int Pc = pc;

    /// <summary>The frame the instruction ran in (0 = the main program or root function).</summary>
    public readonly int Frame = frame;

    /// <summary>For a stack load or store: the frame whose stack it reached, else -1.</summary>
    public int StackFrame = -1;

    /// <summary>For a stack load or store: the slots (bit = slot) it may have touched.</summary>
    public ulong Slots;

    /// <summary>For a stack store: whether it replaced one whole 8-byte slot, so nothing older in it matters.</summary>
    public bool WholeSlot;

    /// <summary>For a conditional jump on scalars that have copies sharing their id: every copy the jump narrowed.</summary>
    public FrameSets? Linked;

    /// <summary>For an exit: whether it ended a bpf_loop callback run (nothing returns to the caller in r0).</summary>
    public bool EndsCallback;
}

/// <summary>Registers and stack slots per frame: what backtracking still looks for, or the copies a jump narrowed.</summary>
internal sealed class FrameSets
{
    public readonly ushort[] Regs = new ushort[MAX_CALL_FRAMES];
    public readonly ulong[] Slots = new ulong[MAX_CALL_FRAMES];

    public bool IsEmpty
    {
        get
        {
            for (var f = 0; f < Regs.Length; f++)
            {
                if (Regs[f] != 0 || Slots[f] != 0)
                    return false;
            }
            return true;
        }
    }

    public bool Intersects(FrameSets other)
    {
        for (var f = 0; f < Regs.Length; f++)
        {
            if ((Regs[f] & other.Regs[f]) != 0 || (Slots[f] & other.Slots[f]) != 0)
                return true;
        }
        return false;
    }

    public void Add(FrameSets other)
    {
        for (var f = 0; f < Regs.Length; f++)
        {
            Regs[f] |= other.Regs[f];
            Slots[f] |= other.Slots[f];
        }
    }
}
