using XdpGate.Uapi;
namespace XdpGate.Bpf.Maps;

/// <summary>BPF_MAP_CREATE: builds the map a definition describes, or throws <see cref="BpfLoadException"/> naming what the kernel would refuse.</summary>
public static class MapFactory
{
    public static BpfMap Create(MapDefinition definition, int possibleCpus = 1)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition.Type switch
        {
            bpf_map_type.BPF_MAP_TYPE_ARRAY or bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY => new ArrayMap(definition, possibleCpus),
            bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY => new ProgArrayMap(definition, possibleCpus),
            bpf_map_type.BPF_MAP_TYPE_DEVMAP => new DevMap(definition, possibleCpus),
            bpf_map_type.BPF_MAP_TYPE_DEVMAP_HASH => new DevMapHash(definition, possibleCpus),
            bpf_map_type.BPF_MAP_TYPE_RINGBUF => new RingBufMap(definition, possibleCpus),
            bpf_map_type.BPF_MAP_TYPE_LPM_TRIE => new LpmTrieMap(definition, possibleCpus),
            bpf_map_type.BPF_MAP_TYPE_HASH or bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH
                or bpf_map_type.BPF_MAP_TYPE_LRU_HASH or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH => new HashMap(definition, possibleCpus),
            _ => throw new BpfLoadException($"map '{definition.Name}': type {definition.Type} is not supported"),
        };
    }
}
