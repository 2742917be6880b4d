using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>What the kernel's stack slot_type records per byte.</summary>
internal enum SlotKind : byte
{
    /// <summary>Never written (STACK_INVALID).</summary>
    Invalid,
    /// <summary>Written with something unknown (STACK_MISC).</summary>
    Misc,
    /// <summary>Known to be zero (STACK_ZERO).</summary>
    Zero,
    /// <summary>Part of a spilled 8-byte register (STACK_SPILL), whose state is kept whole.</summary>
    Spill,
}

/// <summary>One call frame (the kernel's bpf_func_state): registers and the 512-byte stack, byte by byte.</summary>
internal sealed class FrameState
{
    public const int Slots = MAX_BPF_STACK / 8;

    public readonly Reg[] Regs = new Reg[MAX_BPF_REG];

    // The stack is most of a frame's size, and most branches never write it: copies share it until one does.
    private SlotKind[] bytes;
    private Reg[] spills;
    private bool shared;

    public FrameState()
        : this(new SlotKind[MAX_BPF_STACK], new Reg[Slots], shared: false)
    {
    }

    private FrameState(SlotKind[] bytes, Reg[] spills, bool shared)
    {
        this.bytes = bytes;
        this.spills = spills;
        this.shared = shared;
    }

    /// <summary>Indexed by MAX_BPF_STACK + offset from r10 (offsets -512..-1).</summary>
    public ReadOnlySpan<SlotKind> Bytes => bytes;

    /// <summary>The register spilled in each 8-byte slot, indexed like <see cref="Bytes"/> / 8.</summary>
    public ReadOnlySpan<Reg> Spills => spills;

    /// <summary><see cref="Bytes"/> to write, no longer shared with any copy.</summary>
    public Span<SlotKind> WritableBytes
    {
        get
        {
            Unshare();
            return bytes;
        }
    }

    /// <summary><see cref="Spills"/> to write, no longer shared with any copy.</summary>
    public Span<Reg> WritableSpills
    {
        get
        {
            Unshare();
            return spills;
        }
    }

    private void Unshare()
    {
        if (!shared)
            return;
        bytes = (SlotKind[])bytes.Clone();
        spills = (Reg[])spills.Clone();
        shared = false;
    }

    /// <summary>The instruction that called this frame (-1 for the main program).</summary>
    public int CallSite = -1;
    /// <summary>The index of the subprogram running in this frame.</summary>
    public int Subprogram;
    /// <summary>Whether this frame runs a bpf_loop callback (returns to the helper call, not after it).</summary>
    public bool IsCallback;

    /// <summary>What this frame overwrote since the path's last checkpoint (all of it when entered since).</summary>
    public FrameWrites Writes = FrameWrites.All;

    public FrameState Clone()
    {
        var copy = new FrameState(bytes, spills, shared: true) { CallSite = CallSite, Subprogram = Subprogram, IsCallback = IsCallback, Writes = Writes };
        Regs.CopyTo(copy.Regs, 0);
        shared = true;
        return copy;
    }
}

/// <summary>The whole abstract state of one path: its frames, the references it holds, and its place in the exploration tree.</summary>
internal sealed class VerifierState
{
    public readonly List<FrameState> Frames = [];
    /// <summary>Ring buffer records reserved and not yet released, by reference id.</summary>
    public readonly List<int> References = [];
    /// <summary>The latest checkpoint this path passed (the kernel's parent state).</summary>
    public Checkpoint? Parent;
    /// <summary>The instructions run since <see cref="Parent"/>, newest first.</summary>
    public HistoryEntry? History;
    /// <summary>Jumps and instructions processed when the last checkpoint was taken, for the kernel's checkpoint heuristic.</summary>
    public int JumpsAtCheckpoint, InsnsAtCheckpoint;
    /// <summary>Callback runs entered on this path (the kernel's callback_unroll_depth): a callback run again is no loop.</summary>
    public int CallbackRuns;

    public FrameState Current => Frames[^1];

    public Reg[] Regs => Frames[^1].Regs;

    public VerifierState Clone()
    {
        var copy = new VerifierState
        {
            Parent = Parent, History = History, JumpsAtCheckpoint = JumpsAtCheckpoint, InsnsAtCheckpoint = InsnsAtCheckpoint, CallbackRuns = CallbackRuns,
        };
        foreach (var frame in Frames)
            copy.Frames.Add(frame.Clone());
        copy.References.AddRange(References);
        return copy;
    }

    /// <summary>
    /// Every register and spilled register in every frame that <paramref name="match"/> picks, updated by
    /// <paramref name="update"/>: for updates that reach all copies (null checks, packet ranges, narrowing).
    /// </summary>
    public void ForEachReg(Predicate<Reg> match, RefAction update)
    {
        foreach (var frame in Frames)
        {
            for (var r = 0; r < frame.Regs.Length; r++)
            {
                if (match(frame.Regs[r]))
                    update(ref frame.Regs[r]);
            }
            for (var s = 0; s < FrameState.Slots; s++)
            {
                if (frame.Bytes[s * 8] == SlotKind.Spill && match(frame.Spills[s]))
                    update(ref frame.WritableSpills[s]);
            }
        }
    }

    public delegate void RefAction(ref Reg reg);
}
