using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Verifier;

public sealed class VerificationCacheTests
{
    private const string LookupAndRead = """
        *(u32 *)(r10 - 4) = 0
        r1 = map_by_idx(0) ll
        r2 = r10
        r2 += -4
        call 1
        if r0 == 0 goto +1
        r0 = *(u64 *)(r0 + 0)
        r0 = 2
        exit
        """;

    private static BpfProgram Load(MapDefinition definition) =>
        BpfProgram.Load(Assembler.Assemble(LookupAndRead), new ProgramOptions
        {
            Type = bpf_prog_type.BPF_PROG_TYPE_XDP,
            Maps = [MapFactory.Create(definition)],
        });

    /// <summary>Reads a knob from a read-only single-element array; when it is 0 the unchecked packet read is skipped.</summary>
    private const string KnobGuardsUncheckedRead = """
        r2 = *(u32 *)(r1 + 0)
        r1 = map_value_by_idx(0, +0) ll
        r1 = *(u32 *)(r1 + 0)
        if r1 == 0 goto +1
        r0 = *(u8 *)(r2 + 0)
        r0 = 2
        exit
        """;

    /// <summary>The knob program over a fresh frozen (or not) read-only map holding <paramref name="knob"/>.</summary>
    private static BpfProgram LoadKnob(uint knob, bool frozen)
    {
        var map = MapFactory.Create(new MapDefinition("knobs", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 4, 1, MapFlags.BPF_F_RDONLY_PROG));
        Assert.Equal(0, map.Update(new byte[4], BitConverter.GetBytes(knob)));
        if (frozen)
            Assert.Equal(0, map.Freeze());
        return BpfProgram.Load(Assembler.Assemble(KnobGuardsUncheckedRead), new ProgramOptions
        {
            Type = bpf_prog_type.BPF_PROG_TYPE_XDP,
            Maps = [map],
        });
    }

    [Fact]
    public void The_same_instructions_over_frozen_read_only_maps_of_other_contents_get_their_own_verdicts()
    {
        var off = LoadKnob(0, frozen: true);
        Assert.Same(off.Verification, LoadKnob(0, frozen: true).Verification);

        // Same definitions, same instructions: only the frozen contents (or the freezing) differ, and each decides.
        foreach (var (knob, frozen) in new[] { (1u, true), (0u, false) })
        {
            var refusal = Assert.Throws<XdpGate.Bpf.Verifier.VerifierException>(() => LoadKnob(knob, frozen));
            Assert.Contains("invalid access to packet", refusal.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void An_object_loaded_again_over_fresh_maps_reuses_the_verdict_of_its_first_load()
    {
        using var first = BpfObject.Open(TestPrograms.DataFile("programs/xdp_l4_filter.o")).Load(possibleCpus: 2);
        using var second = BpfObject.Open(TestPrograms.DataFile("programs/xdp_l4_filter.o")).Load(possibleCpus: 2);

        var program = first.Programs.Keys.First();
        Assert.NotSame(first.Programs[program], second.Programs[program]);
        Assert.Same(first.Programs[program].Verification, second.Programs[program].Verification);
    }

    [Fact]
    public void A_map_of_another_shape_is_verified_again_and_can_change_the_verdict()
    {
        var eightBytes = Load(new MapDefinition("values", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 8, 1));
        Assert.Same(eightBytes.Verification, Load(new MapDefinition("values", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 8, 1)).Verification);

        // The same instructions over a 4-byte value read past it: the cached acceptance must not be reused.
        var refusal = Assert.Throws<XdpGate.Bpf.Verifier.VerifierException>(() => Load(new MapDefinition("values", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 4, 1)));
        Assert.Contains("invalid access to map value", refusal.Message, StringComparison.Ordinal);
    }
}
