using XdpGate.Bpf.Maps;

namespace XdpGate.Bpf.Program;

/// <summary>How to load a program: its name and type, and the maps its <c>lddw map_by_idx</c> instructions index.</summary>
public sealed record ProgramOptions
{
    public string Name { get; init; } = "prog";
    public bpf_prog_type Type { get; init; } = bpf_prog_type.BPF_PROG_TYPE_UNSPEC;
    public IReadOnlyList<BpfMap> Maps { get; init; } = [];
}
