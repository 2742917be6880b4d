using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;

namespace XdpGate.Benchmarks;

/// <summary>
/// The program and packet the engine benchmarks and the kernel baseline share: tests/data/programs/xdp_parse_count.s
/// (parse Ethernet/IPv4/UDP with bounds checks, count verdicts in a per-CPU array) on a 60-byte UDP frame to port 8080.
/// </summary>
internal static class ParseCountFixture
{
    public static readonly MapDefinition Counters = new("counters", bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4);

    public static bpf_insn[] Instructions() =>
        Assembler.Assemble(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "programs", "xdp_parse_count.s")));

    public static byte[] Packet()
    {
        var packet = new byte[60];
        packet[12] = 0x08; packet[14] = 0x45; packet[23] = 17; packet[36] = 0x1f; packet[37] = 0x90;
        return packet;
    }
}
