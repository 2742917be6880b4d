using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Program.bpf_prog_type;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// What a program section's name says about its programs: type, expected attach type (XDP's only), the frags flag, and
/// whether libbpf knows the name (false: a legacy name that ip link and libxdp load as XDP).
/// </summary>
internal readonly record struct SectionKind(bpf_prog_type Type, bpf_attach_type? AttachType, bool Frags, bool Known = true);

/// <summary>
/// Section names as libbpf 1.x reads them (its section_defs table; Documentation/bpf/libbpf/program_types.rst), so an
/// object opens whatever other programs sit beside its XDP programs. A pattern ending in '+' is that name alone or
/// followed by "/anything"; one ending in '/' needs something after it; any other is matched exactly; the first
/// match wins, as in libbpf. The older <c>xdp/NAME</c>, <c>xdp_devmap/NAME</c>, <c>xdp_cpumap/NAME</c> and
/// <c>socket/NAME</c> forms of libbpf 0.x are read too. A name none of these match (<c>xdp_redirect_map</c>,
/// <c>xdp_sock</c>, <c>prog</c>) is what iproute2 (<c>ip link set dev D xdp obj O sec S</c>, whose default
/// section is "prog") and libxdp (<c>xdp_program__open_file(file, section)</c>) load as XDP, and so does XdpGate.
/// </summary>
internal static class ProgramSections
{
    private static readonly (string Pattern, bpf_prog_type Type, bpf_attach_type? AttachType, bool Frags)[] Table =
    [
        ("socket", BPF_PROG_TYPE_SOCKET_FILTER, null, false),
        ("sk_reuseport/migrate", BPF_PROG_TYPE_SK_REUSEPORT, null, false),
        ("sk_reuseport", BPF_PROG_TYPE_SK_REUSEPORT, null, false),
        ("kprobe+", BPF_PROG_TYPE_KPROBE, null, false),
        ("uprobe+", BPF_PROG_TYPE_KPROBE, null, false),
        ("uprobe.s+", BPF_PROG_TYPE_KPROBE, null, false),
        ("kretprobe+", BPF_PROG_TYPE_KPROBE, null, false),
        ("uretprobe+", BPF_PROG_TYPE_KPROBE, null, false),
        ("uretprobe.s+", BPF_PROG_TYPE_KPROBE, null, false),
        ("kprobe.multi+", BPF_PROG_TYPE_KPROBE, null, false),
        ("kretprobe.multi+", BPF_PROG_TYPE_KPROBE, null, false),
        ("kprobe.session+", BPF_PROG_TYPE_KPROBE, null, false),
        ("uprobe.multi+", BPF_PROG_TYPE_KPROBE, null, false),
        ("uretprobe.multi+", BPF_PROG_TYPE_KPROBE, null, false),
        ("uprobe.session+", BPF_PROG_TYPE_KPROBE, null, false),
        ("uprobe.multi.s+", BPF_PROG_TYPE_KPROBE, null, false),
        ("uretprobe.multi.s+", BPF_PROG_TYPE_KPROBE, null, false),
        ("uprobe.session.s+", BPF_PROG_TYPE_KPROBE, null, false),
        ("ksyscall+", BPF_PROG_TYPE_KPROBE, null, false),
        ("kretsyscall+", BPF_PROG_TYPE_KPROBE, null, false),
        ("usdt+", BPF_PROG_TYPE_KPROBE, null, false),
        ("usdt.s+", BPF_PROG_TYPE_KPROBE, null, false),
        ("tc/ingress", BPF_PROG_TYPE_SCHED_CLS, null, false),
        ("tc/egress", BPF_PROG_TYPE_SCHED_CLS, null, false),
        ("tcx/ingress", BPF_PROG_TYPE_SCHED_CLS, null, false),
        ("tcx/egress", BPF_PROG_TYPE_SCHED_CLS, null, false),
        ("netkit/primary", BPF_PROG_TYPE_SCHED_CLS, null, false),
        ("netkit/peer", BPF_PROG_TYPE_SCHED_CLS, null, false),
        ("tc", BPF_PROG_TYPE_SCHED_CLS, null, false),
        ("classifier", BPF_PROG_TYPE_SCHED_CLS, null, false),
        ("action", BPF_PROG_TYPE_SCHED_ACT, null, false),
        ("tracepoint+", BPF_PROG_TYPE_TRACEPOINT, null, false),
        ("tp+", BPF_PROG_TYPE_TRACEPOINT, null, false),
        ("raw_tracepoint+", BPF_PROG_TYPE_RAW_TRACEPOINT, null, false),
        ("raw_tp+", BPF_PROG_TYPE_RAW_TRACEPOINT, null, false),
        ("raw_tracepoint.w+", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, null, false),
        ("raw_tp.w+", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, null, false),
        ("tp_btf+", BPF_PROG_TYPE_TRACING, null, false),
        ("fentry+", BPF_PROG_TYPE_TRACING, null, false),
        ("fmod_ret+", BPF_PROG_TYPE_TRACING, null, false),
        ("fexit+", BPF_PROG_TYPE_TRACING, null, false),
        ("fentry.s+", BPF_PROG_TYPE_TRACING, null, false),
        ("fmod_ret.s+", BPF_PROG_TYPE_TRACING, null, false),
        ("fexit.s+", BPF_PROG_TYPE_TRACING, null, false),
        ("iter+", BPF_PROG_TYPE_TRACING, null, false),
        ("iter.s+", BPF_PROG_TYPE_TRACING, null, false),
        ("syscall", BPF_PROG_TYPE_SYSCALL, null, false),
        ("freplace+", BPF_PROG_TYPE_EXT, null, false),
        ("lsm+", BPF_PROG_TYPE_LSM, null, false),
        ("lsm.s+", BPF_PROG_TYPE_LSM, null, false),
        ("lsm_cgroup+", BPF_PROG_TYPE_LSM, null, false),
        ("xdp.frags/devmap", BPF_PROG_TYPE_XDP, bpf_attach_type.BPF_XDP_DEVMAP, true),
        ("xdp/devmap", BPF_PROG_TYPE_XDP, bpf_attach_type.BPF_XDP_DEVMAP, false),
        ("xdp.frags/cpumap", BPF_PROG_TYPE_XDP, bpf_attach_type.BPF_XDP_CPUMAP, true),
        ("xdp/cpumap", BPF_PROG_TYPE_XDP, bpf_attach_type.BPF_XDP_CPUMAP, false),
        ("xdp.frags", BPF_PROG_TYPE_XDP, bpf_attach_type.BPF_XDP, true),
        ("xdp", BPF_PROG_TYPE_XDP, bpf_attach_type.BPF_XDP, false),
        ("perf_event", BPF_PROG_TYPE_PERF_EVENT, null, false),
        ("lwt_in", BPF_PROG_TYPE_LWT_IN, null, false),
        ("lwt_out", BPF_PROG_TYPE_LWT_OUT, null, false),
        ("lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, null, false),
        ("lwt_seg6local", BPF_PROG_TYPE_LWT_SEG6LOCAL, null, false),
        ("sockops", BPF_PROG_TYPE_SOCK_OPS, null, false),
        ("sk_skb/stream_parser", BPF_PROG_TYPE_SK_SKB, null, false),
        ("sk_skb/stream_verdict", BPF_PROG_TYPE_SK_SKB, null, false),
        ("sk_skb/verdict", BPF_PROG_TYPE_SK_SKB, null, false),
        ("sk_skb", BPF_PROG_TYPE_SK_SKB, null, false),
        ("sk_msg", BPF_PROG_TYPE_SK_MSG, null, false),
        ("lirc_mode2", BPF_PROG_TYPE_LIRC_MODE2, null, false),
        ("flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR, null, false),
        ("cgroup_skb/ingress", BPF_PROG_TYPE_CGROUP_SKB, null, false),
        ("cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, null, false),
        ("cgroup/skb", BPF_PROG_TYPE_CGROUP_SKB, null, false),
        ("cgroup/sock_create", BPF_PROG_TYPE_CGROUP_SOCK, null, false),
        ("cgroup/sock_release", BPF_PROG_TYPE_CGROUP_SOCK, null, false),
        ("cgroup/sock", BPF_PROG_TYPE_CGROUP_SOCK, null, false),
        ("cgroup/post_bind4", BPF_PROG_TYPE_CGROUP_SOCK, null, false),
        ("cgroup/post_bind6", BPF_PROG_TYPE_CGROUP_SOCK, null, false),
        ("cgroup/bind4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/bind6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/connect6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/connect_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/sendmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/sendmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/sendmsg_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/recvmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/recvmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/recvmsg_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/getpeername4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/getpeername6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/getpeername_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/getsockname4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/getsockname6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/getsockname_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, null, false),
        ("cgroup/sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL, null, false),
        ("cgroup/getsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, null, false),
        ("cgroup/setsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, null, false),
        ("cgroup/dev", BPF_PROG_TYPE_CGROUP_DEVICE, null, false),
        ("struct_ops+", BPF_PROG_TYPE_STRUCT_OPS, null, false),
        ("struct_ops.s+", BPF_PROG_TYPE_STRUCT_OPS, null, false),
        ("sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, null, false),
        ("netfilter", BPF_PROG_TYPE_NETFILTER, null, false),
        // libbpf 0.x names, still in objects built against it.
        ("xdp_devmap/", BPF_PROG_TYPE_XDP, bpf_attach_type.BPF_XDP_DEVMAP, false),
        ("xdp_cpumap/", BPF_PROG_TYPE_XDP, bpf_attach_type.BPF_XDP_CPUMAP, false),
        ("xdp/", BPF_PROG_TYPE_XDP, bpf_attach_type.BPF_XDP, false),
        ("socket/", BPF_PROG_TYPE_SOCKET_FILTER, null, false),
    ];

    /// <summary>The kind of <paramref name="section"/>'s programs; a name libbpf does not know is XDP, as ip link and libxdp load it.</summary>
    public static SectionKind Classify(string section)
    {
        foreach (var (pattern, type, attachType, frags) in Table)
        {
            if (Matches(section, pattern))
                return new(type, attachType, frags);
        }
        return new(BPF_PROG_TYPE_XDP, bpf_attach_type.BPF_XDP, false, Known: false);
    }

    /// <summary>Whether the engine runs programs of <paramref name="type"/>.</summary>
    public static bool Runs(bpf_prog_type type) => type is BPF_PROG_TYPE_XDP or BPF_PROG_TYPE_SOCKET_FILTER;

    /// <summary>libbpf's sec_def_matches.</summary>
    private static bool Matches(string section, string pattern)
    {
        if (pattern[^1] == '/')
            return section.Length > pattern.Length && section.StartsWith(pattern, StringComparison.Ordinal);
        if (pattern[^1] != '+')
            return section == pattern;
        var name = pattern.AsSpan(0, pattern.Length - 1);
        return section.AsSpan().StartsWith(name, StringComparison.Ordinal)
            && (section.Length == name.Length || section[name.Length] == '/');
    }
}
