namespace XdpGate.Bpf.Verifier;

/// <summary>What later paths taught a checkpoint about one of its frames: registers and slots read, and those whose value mattered.</summary>
internal struct FrameMarks
{
    public ushort ReadRegs, PreciseRegs;
    public ulong ReadSlots, PreciseSlots;
}

/// <summary>Registers and whole 8-byte stack slots one frame overwrote in a stretch of a path (the kernel's REG_LIVE_WRITTEN).</summary>
internal struct FrameWrites
{
    public ushort Regs;
    public ulong Slots;

    /// <summary>A frame just entered: nothing from before it can be read through it.</summary>
    public static FrameWrites All => new() { Regs = ushort.MaxValue, Slots = ulong.MaxValue };
}

/// <summary>
/// A state kept at a prune point (the kernel's bpf_verifier_state_list entry). While <see cref="Branches"/> is above zero
/// some path from it is still being explored, so it can only reveal a loop; once zero (<see cref="Done"/>), every path
/// from it has been verified, and what those paths read and needed precise is in <see cref="Marks"/>, so a later state
/// it covers in those registers and slots needs no exploring.
/// </summary>
internal sealed class Checkpoint
{
    public Checkpoint(VerifierState state, int pc, int hash, bool loopCall)
    {
        State = state;
        Pc = pc;
        Hash = hash;
        Parent = state.Parent;
        History = state.History;
        IsLoopCall = loopCall;
        Marks = new FrameMarks[state.Frames.Count];
        Writes = new FrameWrites[state.Frames.Count];
        for (var f = 0; f < state.Frames.Count; f++)
            Writes[f] = state.Frames[f].Writes;
        // The outermost and the innermost bpf_loop call this state is inside of, while that loop is still being explored.
        LoopEntry = Parent is null ? null : Parent.LoopEntry ?? (Parent.IsLoopCall ? Parent : null);
        var innermost = Parent is null ? null : Parent.IsLoopCall ? Parent : Parent.innermostLoop;
        innermostLoop = innermost;
        ReadsCompleteFrom = innermost is null ? 0 : innermost.State.Frames.Count;
    }

    private readonly Checkpoint? innermostLoop;

    public readonly VerifierState State;
    public readonly int Pc;
    public readonly int Hash;

    /// <summary>The checkpoint the path passed before this one (the kernel's parent state).</summary>
    public readonly Checkpoint? Parent;

    /// <summary>The instructions run from <see cref="Parent"/> to here, newest first.</summary>
    public readonly HistoryEntry? History;

    /// <summary>What each frame overwrote from <see cref="Parent"/> to here: reads after it do not reach further up.</summary>
    public readonly FrameWrites[] Writes;

    public readonly FrameMarks[] Marks;

    /// <summary>Whether this is a state at a bpf_loop call, where callback runs loop back.</summary>
    public readonly bool IsLoopCall;

    /// <summary>The outermost bpf_loop call state above this one (its loop not yet fully explored when this one was taken).</summary>
    public readonly Checkpoint? LoopEntry;

    /// <summary>Paths pruned by states inside the loop this entry starts, whose marks are propagated again once it is explored.</summary>
    public List<(Checkpoint By, VerifierState Pruned)>? LoopEdges;

    public int Branches = 1;
    public int Hits, Misses;

    public bool Done => Branches == 0;

    /// <summary>For a loop entry: every path through its loop explored and the marks along its loop edges settled.</summary>
    public bool Settled;

    /// <summary>
    /// Whether <see cref="Marks"/> are complete: the checkpoint is done and no loop it is inside of is still open. Only
    /// then may pruning compare just the marked registers and slots, and only the precise scalars by range.
    /// </summary>
    public bool MarksComplete => Done && (LoopEntry is null ? !IsLoopCall || Settled : LoopEntry.Settled);

    /// <summary>
    /// The first frame whose read marks are complete once the checkpoint is done, even inside a loop still open: the
    /// frames a callback run entered (above the frame of the innermost bpf_loop call) are read only until they return,
    /// and every path from here until then is explored. Further loop runs may still read the frames below.
    /// </summary>
    public readonly int ReadsCompleteFrom;
}

/// <summary>Checkpoints at one instruction: those with paths still open, and those fully explored.</summary>
internal sealed class PcStates
{
    // Open checkpoints by hash: a long loop keeps many, and each visit looks only at those that may be the same state.
    private readonly Dictionary<int, List<Checkpoint>> open = [];
    public readonly List<Checkpoint> Done = [];

    public int OpenCount { get; private set; }

    public void AddOpen(Checkpoint checkpoint)
    {
        if (!open.TryGetValue(checkpoint.Hash, out var list))
            open.Add(checkpoint.Hash, list = []);
        list.Add(checkpoint);
        OpenCount++;
    }

    public List<Checkpoint>? OpenWithHash(int hash) => open.GetValueOrDefault(hash);

    public IEnumerable<Checkpoint> AllOpen() => open.Values.SelectMany(list => list).ToArray();

    public void Complete(Checkpoint checkpoint)
    {
        open[checkpoint.Hash].Remove(checkpoint);
        OpenCount--;
        Done.Add(checkpoint);
    }
}
