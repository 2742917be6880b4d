using XdpGate.Bpf.Maps;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The map each helper call takes in r1, per call site, as the kernel keeps map_ptr_state in insn_aux_data: when every
/// path reaching the call passes the same map of the program, the JIT may inline its lookup (array maps) or call the
/// map directly. States that differ in a map pointer never prune each other, so the explored paths cover every path.
/// Recorded as an index into the program's maps, not the map, since a cached verdict serves loads over other maps
/// of the same shape (<see cref="VerificationCache"/>).
/// </summary>
internal sealed partial class Exploration
{
    private const int UnknownMap = -1, MixedMaps = -2;
    private int[]? knownMaps;

    private void RecordKnownMap(BpfMap map)
    {
        if (knownMaps is null)
        {
            knownMaps = new int[insns.Length];
            Array.Fill(knownMaps, UnknownMap);
        }
        var index = IndexOf(map);
        if (knownMaps[pc] == UnknownMap)
            knownMaps[pc] = index < 0 ? MixedMaps : index;
        else if (knownMaps[pc] != index)
            knownMaps[pc] = MixedMaps;
    }

    private int IndexOf(BpfMap map)
    {
        for (var i = 0; i < program.Maps.Count; i++)
        {
            if (ReferenceEquals(program.Maps[i], map))
                return i;
        }
        return -1;
    }

    private int[] KnownMaps() => knownMaps is null ? [] : Array.ConvertAll(knownMaps, k => k < 0 ? UnknownMap : k);
}
