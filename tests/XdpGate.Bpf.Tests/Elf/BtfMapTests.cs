using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>xdp_maps.c: BTF-defined maps, a program array filled by __array(values, ...), three programs in one section.</summary>
public sealed class BtfMapTests
{
    private static readonly BpfObject Object = ElfFixtures.Open("xdp_maps.o");

    [Fact]
    public void Btf_defined_maps_have_their_C_names_types_sizes_and_flags()
    {
        var maps = Object.Maps.ToDictionary(m => m.Name);
        Assert.Equal(new MapDefinition("seen", bpf_map_type.BPF_MAP_TYPE_HASH, 4, 8, 64, MapFlags.BPF_F_NO_PREALLOC), maps["seen"].Definition);
        Assert.Equal(new MapDefinition("counters", bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4), maps["counters"].Definition);
        Assert.Equal(new MapDefinition("jumps", bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4), maps["jumps"].Definition);
        Assert.All(Object.Maps, m => Assert.Equal(ObjectMapKind.Btf, m.Kind));
        Assert.All(Object.Maps, m => Assert.Equal(".maps", m.Section));
    }

    [Fact]
    public void A_program_arrays_values_name_the_programs_of_its_slots()
    {
        var jumps = Object.Maps.Single(m => m.Name == "jumps");
        Assert.Equal([new ProgramSlot(0, "tail_pass"), new ProgramSlot(2, "tail_drop")], jumps.ProgramSlots);
    }

    [Fact]
    public void Several_programs_in_one_section_are_cut_at_their_symbols()
    {
        Assert.Equal(["tail_pass", "tail_drop", "dispatch"], Object.Programs.Select(p => p.Name));
        Assert.All(Object.Programs, p => Assert.Equal("xdp", p.Section));
        Assert.All(Object.Programs, p => Assert.Equal(bpf_prog_type.BPF_PROG_TYPE_XDP, p.Type));
        Assert.All(Object.Programs, p => Assert.Equal(bpf_attach_type.BPF_XDP, p.ExpectedAttachType));
        Assert.Equal([13, 13, 26], Object.Programs.Select(p => p.InstructionCount));
        Assert.Equal("GPL", Object.License);
    }

    [Fact]
    public void Map_references_become_lddw_map_by_index_in_the_objects_map_order()
    {
        var dispatch = Object.Programs.Single(p => p.Name == "dispatch");
        var mapLoads = dispatch.Instructions.Where(i => i.code == 0x18 && i.src_reg == XdpGate.Bpf.Isa.Opcodes.BPF_PSEUDO_MAP_IDX).Select(i => Object.Maps[i.imm].Name);
        Assert.Equal(["seen", "jumps"], mapLoads);
        Assert.All(dispatch.RawInstructions.Where(i => i.code == 0x18), i => Assert.Equal(0, i.src_reg));
    }

    [Theory]
    [InlineData(0, xdp_action.XDP_PASS)]
    [InlineData(2, xdp_action.XDP_DROP)]
    [InlineData(1, xdp_action.XDP_TX)]
    [InlineData(9, xdp_action.XDP_TX)]
    public void Tail_calls_reach_the_programs_the_object_put_in_its_program_array(byte slot, xdp_action expected)
    {
        using var loaded = Object.Load(possibleCpus: 2);
        var packet = new byte[60];
        packet[0] = slot;
        Assert.Equal(expected, ElfFixtures.RunXdp(loaded.Programs["dispatch"], packet).Verdict);

        Assert.Equal(1UL, ElfFixtures.Read<ulong>(loaded.Maps["seen"], slot));
        var counted = expected switch { xdp_action.XDP_PASS => 0u, xdp_action.XDP_DROP => 2u, _ => 1u };
        Assert.Equal(expected == xdp_action.XDP_TX ? 0UL : 1UL, ElfFixtures.Read<ulong>(loaded.Maps["counters"], counted));
    }

    [Fact]
    public void The_loaded_program_array_holds_the_loaded_programs()
    {
        using var loaded = Object.Load();
        var jumps = (ProgArrayMap)loaded.Maps["jumps"];
        Assert.Same(loaded.Programs["tail_pass"], jumps.GetProgram(0));
        Assert.Null(jumps.GetProgram(1));
        Assert.Same(loaded.Programs["tail_drop"], jumps.GetProgram(2));
    }

    [Fact]
    public void An_empty_packet_is_aborted_by_the_bounds_check()
    {
        using var loaded = Object.Load();
        Assert.Equal(xdp_action.XDP_ABORTED, ElfFixtures.RunXdp(loaded.Programs["dispatch"], []).Verdict);
    }

    [Fact]
    public void A_map_attribute_libbpf_does_not_know_is_refused_by_name()
    {
        var e = Assert.Throws<BpfLoadException>(() => ElfFixtures.Open("bad_map_attribute.o"));
        Assert.Contains("map 'painted': attribute 'colour' is unknown", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loading_twice_gives_independent_maps()
    {
        using var first = Object.Load();
        using var second = Object.Load();
        var packet = new byte[60];
        ElfFixtures.RunXdp(first.Programs["dispatch"], packet);
        Assert.Equal(-Errno.ENOENT, second.Maps["seen"].Lookup(new byte[4], new byte[8]));
    }
}
