using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
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
