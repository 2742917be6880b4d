using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Xdp;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>xdp_legacy.c: struct bpf_map_def definitions in the "maps" section, and an "xdp/NAME" section.</summary>
public sealed class LegacyMapTests
{
    private static readonly BpfObject Object = ElfFixtures.Open("xdp_legacy.o");

    [Fact]
    public void Legacy_map_definitions_are_read_with_their_symbol_names()
    {
        Assert.Equal(
            [
                new MapDefinition("packets", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 8, 2),
                new MapDefinition("verdicts", bpf_map_type.BPF_MAP_TYPE_HASH, 2, 4, 16),
            ],
            Object.Maps.Select(m => m.Definition));
        Assert.All(Object.Maps, m => Assert.Equal(ObjectMapKind.Legacy, m.Kind));
    }

    [Fact]
    public void A_legacy_xdp_NAME_section_is_an_XDP_program()
    {
        var program = Assert.Single(Object.Programs);
        Assert.Equal(("legacy", "xdp/legacy", Program.bpf_prog_type.BPF_PROG_TYPE_XDP), (program.Name, program.Section, program.Type));
    }

    [Fact]
    public void The_program_counts_packets_and_returns_the_verdict_stored_for_their_length()
    {
        using var loaded = Object.Load();
        var program = loaded.Programs["legacy"];
        Assert.Equal(xdp_action.XDP_PASS, ElfFixtures.RunXdp(program, new byte[64]).Verdict);

        Assert.Equal(0, loaded.Maps["verdicts"].Update(BitConverter.GetBytes((ushort)64), BitConverter.GetBytes((uint)xdp_action.XDP_DROP)));
        Assert.Equal(xdp_action.XDP_DROP, ElfFixtures.RunXdp(program, new byte[64]).Verdict);
        Assert.Equal(xdp_action.XDP_PASS, ElfFixtures.RunXdp(program, new byte[65]).Verdict);
        Assert.Equal(3UL, ElfFixtures.Read<ulong>(loaded.Maps["packets"], 0));
    }
}
