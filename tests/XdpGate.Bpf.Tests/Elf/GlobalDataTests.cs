using System.Text;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Xdp;
using Xunit;
using XdpGate.Bpf.Verifier;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>xdp_globals.c: .rodata (set before load), .data, .bss, .data.stats and merged strings (.rodata.str1.1).</summary>
public sealed class GlobalDataTests
{
    // Unverified: the kernel refuses tag[length % 7] (an index it cannot bound), and these tests are about global data.
    private static BpfObject OpenFresh() => ElfFixtures.Open("xdp_globals.o");

    [Fact]
    public void Each_data_section_is_a_one_element_array_named_after_it_holding_its_bytes()
    {
        var maps = OpenFresh().Maps.ToDictionary(m => m.Name);
        Assert.Equal([".rodata", ".data", ".bss", ".data.stats", ".rodata.str1.1"], maps.Keys);
        Assert.All(maps.Values, m => Assert.Equal((bpf_map_type.BPF_MAP_TYPE_ARRAY, 4u, 1u, ObjectMapKind.GlobalData),
            (m.Definition.Type, m.Definition.KeySize, m.Definition.MaxEntries, m.Kind)));

        Assert.Equal(new byte[] { 0, 0, 0, 0, 0x5a }, maps[".rodata"].InitialData.ToArray());
        Assert.Equal(BitConverter.GetBytes((uint)xdp_action.XDP_PASS), maps[".data"].InitialData.ToArray());
        Assert.Equal(new byte[16], maps[".bss"].InitialData.ToArray());
        Assert.Equal(BitConverter.GetBytes(7UL), maps[".data.stats"].InitialData.ToArray());
        Assert.Equal("xdpgate\0", Encoding.ASCII.GetString(maps[".rodata.str1.1"].InitialData.Span));
    }

    [Fact]
    public void Read_only_sections_are_read_only_to_programs()
    {
        var maps = OpenFresh().Maps.ToDictionary(m => m.Name);
        Assert.Equal(MapFlags.BPF_F_RDONLY_PROG, maps[".rodata"].Definition.Flags);
        Assert.Equal(MapFlags.BPF_F_RDONLY_PROG, maps[".rodata.str1.1"].Definition.Flags);
        Assert.Equal(0u, maps[".data"].Definition.Flags);

        using var loaded = OpenFresh().Load(verification: VerificationLevel.None);
        Assert.False(loaded.Maps[".rodata"].ValueRegion.Writable);
        Assert.True(loaded.Maps[".bss"].ValueRegion.Writable);
    }

    [Fact]
    public void After_load_rodata_is_frozen_against_control_plane_writes_and_data_and_bss_are_not()
    {
        using var loaded = OpenFresh().Load(verification: VerificationLevel.None);
        var rodata = loaded.Maps[".rodata"];
        Assert.True(rodata.IsFrozen);
        Assert.True(loaded.Maps[".rodata.str1.1"].IsFrozen);
        Assert.Equal(-Errno.EPERM, rodata.Update(new byte[4], new byte[rodata.ValueSize]));
        Assert.Contains("frozen", rodata.ErrorText(-Errno.EPERM), StringComparison.Ordinal);

        foreach (var name in new[] { ".data", ".bss", ".data.stats" })
        {
            var map = loaded.Maps[name];
            Assert.False(map.IsFrozen, name);
            Assert.Equal(0, map.Update(new byte[4], new byte[map.ValueSize]));
        }
    }

    [Fact]
    public void Global_variables_are_located_by_BTF_and_their_symbols_static_ones_are_not_listed()
    {
        Assert.Equal(
            [
                new ObjectVariable("drop_length", ".rodata", 0, 4),
                new ObjectVariable("mark_byte", ".rodata", 4, 1),
                new ObjectVariable("verdict_other", ".data", 0, 4),
                new ObjectVariable("dropped", ".bss", 0, 8),
                new ObjectVariable("passed", ".bss", 8, 8),
                new ObjectVariable("last_length", ".data.stats", 0, 8),
            ],
            OpenFresh().Variables);
    }

    [Fact]
    public void Programs_read_and_write_globals_through_the_data_maps()
    {
        using var loaded = OpenFresh().Load(verification: VerificationLevel.None);
        var (verdict, packet) = ElfFixtures.RunXdp(loaded.Programs["globals"], new byte[60]);

        Assert.Equal(xdp_action.XDP_PASS, verdict);
        Assert.Equal(0x5a, packet[0]);                         // mark_byte from .rodata
        Assert.Equal((byte)"xdpgate"[60 % 7], packet[1]);      // tag[] from .rodata.str1.1
        Assert.Equal(1UL, ElfFixtures.Read<ulong>(loaded.Maps[".bss"], 0, offset: 8));         // passed
        Assert.Equal(60UL, ElfFixtures.Read<ulong>(loaded.Maps[".data.stats"], 0));            // last_length
    }

    [Fact]
    public void A_rodata_value_set_before_load_changes_what_the_program_does()
    {
        var obj = OpenFresh();
        obj.SetRodata("drop_length", 60u);
        using var loaded = obj.Load(verification: VerificationLevel.None);
        var program = loaded.Programs["globals"];

        Assert.Equal(xdp_action.XDP_DROP, ElfFixtures.RunXdp(program, new byte[60]).Verdict);
        Assert.Equal(xdp_action.XDP_PASS, ElfFixtures.RunXdp(program, new byte[61]).Verdict);
        Assert.Equal(1UL, ElfFixtures.Read<ulong>(loaded.Maps[".bss"], 0));                    // dropped
        Assert.Equal(60u, ElfFixtures.Read<uint>(loaded.Maps[".rodata"], 0));
    }

    [Fact]
    public void Rodata_given_to_one_load_applies_to_that_load_only()
    {
        var obj = OpenFresh();
        using (var marked = obj.Load(rodata: new Dictionary<string, byte[]> { ["mark_byte"] = [0x11] }, verification: VerificationLevel.None))
            Assert.Equal(0x11, ElfFixtures.RunXdp(marked.Programs["globals"], new byte[60]).Packet[0]);
        using var plain = obj.Load(verification: VerificationLevel.None);
        Assert.Equal(0x5a, ElfFixtures.RunXdp(plain.Programs["globals"], new byte[60]).Packet[0]);
    }

    [Fact]
    public void The_control_plane_can_change_a_data_variable_the_program_reads()
    {
        using var loaded = OpenFresh().Load(verification: VerificationLevel.None);
        Assert.Equal(0, loaded.Maps[".data"].Update(new byte[4], BitConverter.GetBytes((uint)xdp_action.XDP_TX)));
        Assert.Equal(xdp_action.XDP_TX, ElfFixtures.RunXdp(loaded.Programs["globals"], new byte[60]).Verdict);
    }

    [Fact]
    public void Setting_an_unknown_rodata_variable_names_it_and_lists_the_known_ones()
    {
        var e = Assert.Throws<BpfLoadException>(() => OpenFresh().SetRodata("drop_lenght", 1u));
        Assert.Equal("rodata variable 'drop_lenght' does not exist; the object's read-only globals are: drop_length, mark_byte", e.Message);
    }

    [Fact]
    public void A_writable_global_is_not_a_rodata_variable()
    {
        var e = Assert.Throws<BpfLoadException>(() => OpenFresh().SetRodata("verdict_other", 1u));
        Assert.Contains("'verdict_other' does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rodata_value_of_the_wrong_size_is_refused_with_both_sizes()
    {
        var e = Assert.Throws<BpfLoadException>(() => OpenFresh().SetRodata("drop_length", 60UL));
        Assert.Equal("rodata variable 'drop_length' is 4 bytes, the value given is 8", e.Message);
        Assert.Throws<BpfLoadException>(() => OpenFresh().Load(rodata: new Dictionary<string, byte[]> { ["mark_byte"] = [1, 2] }, verification: VerificationLevel.None));
    }

    [Fact]
    public void The_xdp_frags_section_marks_the_program_multi_buffer()
    {
        var program = Assert.Single(OpenFresh().Programs);
        Assert.True(program.Frags);
        Assert.Equal("Dual BSD/GPL", OpenFresh().License);
    }
}
