using XdpGate.Bpf.Maps;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The map each helper call takes in r1, per call site, as the kernel keeps map_ptr_state in insn_aux_data: when every
/// path reaching the call passes the same map, the JIT may inline its lookup (array maps) or call the map directly.
/// States that differ in a map pointer never prune each other, so the explored paths cover every path.
/// </summary>
internal sealed partial class Exploration
{
    private BpfMap?[]? knownMaps;
    private bool[]? mixedMaps;

    private void RecordKnownMap(BpfMap map)
    {
        knownMaps ??= new BpfMap?[insns.Length];
        mixedMaps ??= new bool[insns.Length];
        if (mixedMaps[pc])
            return;
        if (knownMaps[pc] is null)
            knownMaps[pc] = map;
        else if (!ReferenceEquals(knownMaps[pc], map))
        {
            knownMaps[pc] = null;
            mixedMaps[pc] = true;
        }
    }

    private BpfMap?[] KnownMaps() => knownMaps ?? [];
}
