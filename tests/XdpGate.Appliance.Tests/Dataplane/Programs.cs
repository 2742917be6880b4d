using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Uapi;

namespace XdpGate.Appliance.Tests.Dataplane;

/// <summary>Small XDP programs assembled from text, and the corpus fixtures under tests/data/programs.</summary>
internal static class Programs
{
    public static BpfProgram Xdp(string asm, params BpfMap[] maps) =>
        BpfProgram.Load(Assembler.Assemble(asm), new ProgramOptions { Name = "test", Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = maps });

    /// <summary>An XDP program loaded without verification, for tests of what the data path does when a run faults.</summary>
    public static BpfProgram UnverifiedXdp(string asm) =>
        BpfProgram.Load(Assembler.Assemble(asm), new ProgramOptions
        {
            Name = "test", Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Verification = XdpGate.Bpf.Verifier.VerificationLevel.None,
        });

    public static BpfProgram Returning(uint verdict) => Xdp($"r0 = {verdict}\nexit");

    /// <summary>bpf_redirect(ifindex, 0).</summary>
    public static BpfProgram RedirectTo(int ifindex) => Xdp($"r1 = {ifindex}\nr2 = 0\ncall 23\nexit");

    public static string DataFile(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "data", .. parts]);

    /// <summary>tests/data/programs/xdp_parse_count.s with its per-CPU counters (drops UDP to port 53, passes the rest).</summary>
    public static (BpfProgram Program, ArrayMap Counters) ParseCount(int cpus)
    {
        var counters = new ArrayMap(new MapDefinition("counters", bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4), cpus);
        return (Xdp(File.ReadAllText(DataFile("programs", "xdp_parse_count.s")), counters), counters);
    }
}
