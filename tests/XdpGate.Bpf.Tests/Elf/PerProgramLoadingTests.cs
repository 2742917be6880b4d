using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using Xunit;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>
/// An object loads program by program, as libbpf loads it: every section name libbpf knows opens with its type,
/// names it does not know load as XDP (as ip link and libxdp load them), XdpGate loads what it runs, and a program
/// that cannot load is refused alone.
/// </summary>
public sealed class PerProgramLoadingTests
{
    public static TheoryData<string, bpf_prog_type, bool> SectionNames() => new()
    {
        { "xdp", bpf_prog_type.BPF_PROG_TYPE_XDP, true },
        { "xdp.frags", bpf_prog_type.BPF_PROG_TYPE_XDP, true },
        { "xdp/devmap", bpf_prog_type.BPF_PROG_TYPE_XDP, true },
        { "xdp/cpumap", bpf_prog_type.BPF_PROG_TYPE_XDP, true },
        { "xdp/anything", bpf_prog_type.BPF_PROG_TYPE_XDP, true },
        { "xdp_devmap/anything", bpf_prog_type.BPF_PROG_TYPE_XDP, true },
        { "socket", bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, true },
        { "tp_btf/xdp_exception", bpf_prog_type.BPF_PROG_TYPE_TRACING, true },
        { "tp_btf", bpf_prog_type.BPF_PROG_TYPE_TRACING, true },
        { "fentry/bpf_prog_run", bpf_prog_type.BPF_PROG_TYPE_TRACING, true },
        { "tc", bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS, true },
        { "tcx/ingress", bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS, true },
        { "classifier", bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS, true },
        { "action", bpf_prog_type.BPF_PROG_TYPE_SCHED_ACT, true },
        { "kprobe/do_unlinkat", bpf_prog_type.BPF_PROG_TYPE_KPROBE, true },
        { "ksyscall/bpf", bpf_prog_type.BPF_PROG_TYPE_KPROBE, true },
        { "tracepoint/xdp/xdp_redirect", bpf_prog_type.BPF_PROG_TYPE_TRACEPOINT, true },
        { "raw_tp/xdp_exception", bpf_prog_type.BPF_PROG_TYPE_RAW_TRACEPOINT, true },
        { "cgroup_skb/ingress", bpf_prog_type.BPF_PROG_TYPE_CGROUP_SKB, true },
        { "sk_skb/stream_verdict", bpf_prog_type.BPF_PROG_TYPE_SK_SKB, true },
        { "lsm/bpf", bpf_prog_type.BPF_PROG_TYPE_LSM, true },
        // libbpf's '+' patterns need '/' after the name: "kprobe_x" is not a kprobe, and neither libbpf name is "xdp_".
        { "kprobe_x", bpf_prog_type.BPF_PROG_TYPE_XDP, false },
        { "xdp_redirect_map", bpf_prog_type.BPF_PROG_TYPE_XDP, false },
        { "xdp_sock", bpf_prog_type.BPF_PROG_TYPE_XDP, false },
        { "prog", bpf_prog_type.BPF_PROG_TYPE_XDP, false },
        { "tcx", bpf_prog_type.BPF_PROG_TYPE_XDP, false },
    };

    [Theory]
    [MemberData(nameof(SectionNames))]
    public void A_section_name_gives_the_type_libbpf_gives_it_and_unknown_names_are_xdp(string section, bpf_prog_type type, bool known)
    {
        var kind = ProgramSections.Classify(section);
        Assert.Equal((type, known), (kind.Type, kind.Known));
    }

    [Fact]
    public void An_xdp_program_beside_tp_btf_and_tc_programs_loads_and_they_are_listed_unloaded_with_their_types()
    {
        var obj = BpfObject.Open(TestPrograms.DataFile("programs", "xdp_mixed_sections.o"));
        Assert.Equal(["xdp_classify xdp", "trace_exception tracing", "tc_count sched_cls"],
            obj.Programs.Select(p => $"{p.Name} {ObjectProgram.TypeName(p.Type)}"));
        using var loaded = obj.Load();
        Assert.Equal(["xdp_classify"], loaded.Programs.Keys);
        Assert.Equal("a tracing program (section 'tp_btf/xdp_exception'); XdpGate runs xdp and socket_filter programs", loaded.Unloaded["trace_exception"]);
        Assert.Equal("a sched_cls program (section 'tc'); XdpGate runs xdp and socket_filter programs", loaded.Unloaded["tc_count"]);
        Assert.Equal(["exceptions", "proto_counts"], loaded.Maps.Keys.Order());
        Assert.Empty(loaded.Refused);
    }

    [Fact]
    public void Legacy_section_names_load_as_xdp_and_a_section_name_selects_its_program()
    {
        var obj = BpfObject.Open(TestPrograms.DataFile("programs", "xdp_legacy_sections.o"));
        Assert.All(obj.Programs, p => Assert.Equal((bpf_prog_type.BPF_PROG_TYPE_XDP, false), (p.Type, p.SectionKnown)));
        using var loaded = obj.Load(program: "xdp_redirect_swap");
        Assert.Equal(["xdp_prog_count", "xdp_sock_filter", "xdp_swap_macs"], loaded.Programs.Keys.Order());
        var frame = new byte[60];
        frame[0] = 0xaa;
        frame[6] = 0xbb;
        var (verdict, packet) = ElfFixtures.RunXdp(loaded.Programs["xdp_swap_macs"], frame);
        Assert.Equal((xdp_action.XDP_TX, (byte)0xbb, (byte)0xaa), (verdict, packet[0], packet[6]));
    }

    [Fact]
    public void Each_program_that_cannot_load_is_refused_alone_naming_why_and_its_siblings_load()
    {
        var obj = ElfFixtures.Open("xdp_mixed_refusals.o");
        using var loaded = obj.Load();
        Assert.Equal(["pass_counted"], loaded.Programs.Keys);
        Assert.Equal(["calls_kfunc", "reads_skb", "samples"], loaded.Refused.Keys.Order());
        Assert.StartsWith("program 'reads_skb' (section 'xdp'): ", loaded.Refused["reads_skb"], StringComparison.Ordinal);
        Assert.Contains("call 26", loaded.Refused["reads_skb"], StringComparison.Ordinal);
        Assert.StartsWith("program 'samples' (section 'xdp'): map 'events': type BPF_MAP_TYPE_PERF_EVENT_ARRAY is not supported", loaded.Refused["samples"], StringComparison.Ordinal);
        Assert.Contains("'bpf_kernel_only' is an extern", loaded.Refused["calls_kfunc"], StringComparison.Ordinal);
        Assert.Equal("map 'events': type BPF_MAP_TYPE_PERF_EVENT_ARRAY is not supported", loaded.MapsNotCreated["events"]);
        Assert.Contains("tracing program", loaded.Unloaded["trace_event"], StringComparison.Ordinal);
        Assert.Equal(xdp_action.XDP_PASS, ElfFixtures.RunXdp(loaded.Programs["pass_counted"], new byte[60]).Verdict);
    }

    [Theory]
    [InlineData("reads_skb", "call 26")]
    [InlineData("samples", "map 'events'")]
    [InlineData("calls_kfunc", "is an extern")]
    public void A_refused_program_asked_for_by_name_refuses_the_load_naming_it(string program, string reason)
    {
        var e = Assert.Throws<BpfLoadException>(() => ElfFixtures.Open("xdp_mixed_refusals.o").Load(program: program));
        Assert.StartsWith($"program '{program}' (section 'xdp'): ", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_program_of_a_type_XdpGate_does_not_run_asked_for_by_name_is_refused_naming_its_type()
    {
        var e = Assert.Throws<BpfLoadException>(() => BpfObject.Open(TestPrograms.DataFile("programs", "xdp_mixed_sections.o")).Load(program: "tc_count"));
        Assert.Equal("program 'tc_count': a sched_cls program (section 'tc'); XdpGate runs xdp and socket_filter programs", e.Message);
    }
}
