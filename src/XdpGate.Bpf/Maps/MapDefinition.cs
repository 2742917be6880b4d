using XdpGate.Uapi;
namespace XdpGate.Bpf.Maps;

/// <summary>What <c>BPF_MAP_CREATE</c> takes: the map's type, sizes, capacity and flags, and its C name.</summary>
public sealed record MapDefinition(
    string Name,
    bpf_map_type Type,
    uint KeySize,
    uint ValueSize,
    uint MaxEntries,
    uint Flags = 0)
{
    public override string ToString() =>
        $"{Name}: {Type} key {KeySize} value {ValueSize} max_entries {MaxEntries} flags 0x{Flags:x}";
}
