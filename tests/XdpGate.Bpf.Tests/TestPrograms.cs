using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Tests;

/// <summary>Programs for tests: assembled from text, loaded as the given type with the given maps.</summary>
internal static class TestPrograms
{
    public static BpfProgram Xdp(string asm, params BpfMap[] maps) =>
        BpfProgram.Load(Assembler.Assemble(asm), new ProgramOptions { Name = "test", Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = maps });

    /// <summary>An XDP program loaded without verification, for tests of the run-time checks the verifier makes a safety net.</summary>
    public static BpfProgram UnverifiedXdp(string asm, params BpfMap[] maps) =>
        BpfProgram.Load(Assembler.Assemble(asm), new ProgramOptions
        {
            Name = "test", Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = maps, Verification = VerificationLevel.None,
        });

    /// <summary>A BPF_PROG_TYPE_UNSPEC program over raw memory, which has no kernel rules to verify against.</summary>
    public static BpfProgram Raw(string asm, params BpfMap[] maps) =>
        BpfProgram.Load(Assembler.Assemble(asm), new ProgramOptions { Name = "test", Maps = maps, Verification = VerificationLevel.None });

    public static string DataFile(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "data", .. parts]);

    /// <summary>The counting parser used by tests and benchmarks, with its per-CPU counter map.</summary>
    public static (BpfProgram Program, ArrayMap Counters) ParseCount(int cpus = 2)
    {
        var counters = new ArrayMap(new MapDefinition("counters", bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4), cpus);
        return (Xdp(File.ReadAllText(DataFile("programs", "xdp_parse_count.s")), counters), counters);
    }
}

/// <summary>Packets for tests, built field by field.</summary>
internal static class Packets
{
    /// <summary>Ethernet + IPv4 (IHL 5 unless options given) + UDP with the given destination port and payload length.</summary>
    public static byte[] Udp4(ushort destinationPort, int payload = 18, byte ihl = 5, ushort etherType = 0x0800)
    {
        var ipHeader = ihl * 4;
        var packet = new byte[14 + ipHeader + 8 + payload];
        packet[0] = 0x02; packet[5] = 0x01; packet[6] = 0x02; packet[11] = 0x02;
        packet[12] = (byte)(etherType >> 8); packet[13] = (byte)etherType;
        packet[14] = (byte)(0x40 | ihl);
        var total = ipHeader + 8 + payload;
        packet[16] = (byte)(total >> 8); packet[17] = (byte)total;
        packet[22] = 64; packet[23] = 17;
        packet[26] = 198; packet[27] = 18; packet[28] = 0; packet[29] = 1;
        packet[30] = 198; packet[31] = 19; packet[32] = 0; packet[33] = 1;
        var udp = 14 + ipHeader;
        packet[udp] = 0x30; packet[udp + 1] = 0x39;
        packet[udp + 2] = (byte)(destinationPort >> 8); packet[udp + 3] = (byte)destinationPort;
        packet[udp + 5] = (byte)(8 + payload);
        return packet;
    }
}
