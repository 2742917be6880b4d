using XdpGate.Bpf.Program;

namespace XdpGate.Bpf.Elf;

/// <summary>What a program section's name says about its programs: type, expected attach type, and the frags flag.</summary>
internal readonly record struct SectionKind(bpf_prog_type Type, bpf_attach_type? AttachType, bool Frags);

/// <summary>
/// libbpf's section-name conventions (Documentation/bpf/libbpf/program_types.rst) for the program types this engine
/// runs. Beyond libbpf 1.x's exact names it accepts the older <c>xdp/NAME</c>, <c>xdp_devmap/NAME</c>,
/// <c>xdp_cpumap/NAME</c> and <c>socket/NAME</c> forms that libbpf 0.x and iproute2 objects still use.
/// </summary>
internal static class ProgramSections
{
    public const string Supported = "xdp, xdp.frags, xdp/devmap, xdp/cpumap, xdp.frags/devmap, xdp.frags/cpumap, xdp/NAME, socket";

    public static SectionKind? Classify(string section)
    {
        const bpf_prog_type xdp = bpf_prog_type.BPF_PROG_TYPE_XDP;
        switch (section)
        {
            case "xdp":
                return new(xdp, bpf_attach_type.BPF_XDP, false);
            case "xdp.frags":
                return new(xdp, bpf_attach_type.BPF_XDP, true);
            case "xdp/devmap":
                return new(xdp, bpf_attach_type.BPF_XDP_DEVMAP, false);
            case "xdp.frags/devmap":
                return new(xdp, bpf_attach_type.BPF_XDP_DEVMAP, true);
            case "xdp/cpumap":
                return new(xdp, bpf_attach_type.BPF_XDP_CPUMAP, false);
            case "xdp.frags/cpumap":
                return new(xdp, bpf_attach_type.BPF_XDP_CPUMAP, true);
            case "socket":
                return new(bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, null, false);
        }
        if (IsPrefixOfName(section, "xdp_devmap/"))
            return new(xdp, bpf_attach_type.BPF_XDP_DEVMAP, false);
        if (IsPrefixOfName(section, "xdp_cpumap/"))
            return new(xdp, bpf_attach_type.BPF_XDP_CPUMAP, false);
        if (IsPrefixOfName(section, "xdp/"))
            return new(xdp, bpf_attach_type.BPF_XDP, false);
        if (IsPrefixOfName(section, "socket/"))
            return new(bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, null, false);
        return null;
    }

    /// <summary>Whether <paramref name="section"/> is <paramref name="prefix"/> followed by a non-empty name.</summary>
    private static bool IsPrefixOfName(string section, string prefix) =>
        section.Length > prefix.Length && section.StartsWith(prefix, StringComparison.Ordinal);
}
