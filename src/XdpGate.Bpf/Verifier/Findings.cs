using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// What the exploration learns over all paths for those after it: the loads and stores proven in bounds, so the JIT
/// may leave out their run-time checks; the map each helper call takes in r1 (the kernel's map_ptr_state in
/// insn_aux_data), so the JIT may inline an array lookup or call the map directly; and each subprogram's stack depth,
/// for the check of the frames of every chain of calls together.
/// </summary>
internal sealed class Findings(BpfProgram program, int insns, int subprograms)
{
    private const byte Proven = 1, RunTimeCheck = 2;
    private const int UnknownMap = -1, MixedMaps = -2;

    /// <summary>Per instruction: 0 while no access was seen there, then <see cref="Proven"/> or <see cref="RunTimeCheck"/>.</summary>
    private readonly byte[] accessProof = new byte[insns];
    private readonly int[] stackDepth = new int[subprograms];
    private int[]? knownMaps;

    /// <summary>An access at <paramref name="pc"/> through <paramref name="ptr"/>, which the checks allowed.</summary>
    public void Access(int pc, in Reg ptr)
    {
        // Context fields are rewritten loads, ring buffer records and variable stack offsets keep their run-time checks.
        var proven = ptr.Kind is RegKind.Packet or RegKind.PacketMeta or RegKind.MapValue || (ptr.Kind == RegKind.Stack && ptr.Var.IsConst);
        if (accessProof[pc] != RunTimeCheck)
            accessProof[pc] = proven ? Proven : RunTimeCheck;
    }

    /// <summary>
    /// The helper call at <paramref name="pc"/> takes <paramref name="map"/> on this path. Recorded as an index into the
    /// program's maps, not the map, since a cached verdict serves loads over other maps of the same shape
    /// (<see cref="VerificationCache"/>). States that differ in a map pointer never prune each other, so the explored
    /// paths cover every path.
    /// </summary>
    public void Map(int pc, BpfMap map)
    {
        if (knownMaps is null)
        {
            knownMaps = new int[accessProof.Length];
            Array.Fill(knownMaps, UnknownMap);
        }
        var index = IndexOf(map);
        if (knownMaps[pc] == UnknownMap)
            knownMaps[pc] = index < 0 ? MixedMaps : index;
        else if (knownMaps[pc] != index)
            knownMaps[pc] = MixedMaps;
    }

    /// <summary>Subprogram <paramref name="subprogram"/> uses its stack down to <paramref name="lowest"/> bytes below the frame pointer.</summary>
    public void StackUse(int subprogram, int lowest) => stackDepth[subprogram] = Math.Max(stackDepth[subprogram], -lowest);

    public int StackDepth(int subprogram) => stackDepth[subprogram];

    /// <summary>Per instruction: whether every path reaching it accessed memory proven in bounds.</summary>
    public bool[] ProvenAccess() => Array.ConvertAll(accessProof, proof => proof == Proven);

    /// <summary>Per instruction: the index of the map every path passes the helper call there, else -1; empty when no call takes one.</summary>
    public int[] KnownMaps() => knownMaps is null ? [] : Array.ConvertAll(knownMaps, k => k < 0 ? UnknownMap : k);

    private int IndexOf(BpfMap map)
    {
        for (var i = 0; i < program.Maps.Count; i++)
        {
            if (ReferenceEquals(program.Maps[i], map))
                return i;
        }
        return -1;
    }
}
