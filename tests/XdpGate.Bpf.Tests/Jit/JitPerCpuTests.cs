using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Jit;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Jit;

/// <summary>Code per processor id (the id and its per-CPU slots as constants) and map lookups done by the code itself.</summary>
public sealed class JitPerCpuTests
{
    private const int Cpus = 4;

    // Adds (processor id + 1) to the u64 at the key read from the packet's first byte in map 0; r0 = 1 when the lookup found it.
    private const string AddProcessorIdAtPacketKey = """
        r6 = r1
        r2 = *(u32 *)(r6 + 0)
        r3 = *(u32 *)(r6 + 4)
        r4 = r2
        r4 += 1
        r0 = 0
        if r4 > r3 goto out
        r7 = *(u8 *)(r2 + 0)
        *(u32 *)(r10 - 4) = r7
        call 8
        r8 = r0
        r8 += 1
        r1 = map_by_idx(0) ll
        r2 = r10
        r2 += -4
        call 1
        if r0 == 0 goto out
        r1 = *(u64 *)(r0 + 0)
        r1 += r8
        *(u64 *)(r0 + 0) = r1
        r0 = 1
        out:
        exit
        """;

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Each_processor_id_s_code_answers_that_id(int processorId)
    {
        var program = BpfProgram.Load(Assembler.Assemble("call 8\nexit"), new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP });
        using var vm = new BpfVm(processorId);
        using var frame = new PacketBuffer();
        frame.Reset(new byte[14]);
        Assert.Equal((xdp_action)processorId, ExecutionEngine.Jit.RunXdp(vm, program, ref frame.Context));
    }

    [Theory]
    [InlineData(bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY)]
    [InlineData(bpf_map_type.BPF_MAP_TYPE_ARRAY)]
    [InlineData(bpf_map_type.BPF_MAP_TYPE_HASH)]
    [InlineData(bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH)]
    public void Lookups_on_every_CPU_leave_the_maps_as_the_interpreter_leaves_them(bpf_map_type type)
    {
        Assert.Equal(Counts(type, ExecutionEngine.Interpreter), Counts(type, ExecutionEngine.Jit));
    }

    [Fact]
    public void The_verifier_knows_the_map_of_a_lookup_only_when_every_path_passes_the_same_one()
    {
        var insns = Assembler.Assemble("""
            *(u32 *)(r10 - 4) = 0
            r2 = *(u32 *)(r1 + 16)
            r1 = map_by_idx(0) ll
            if r2 == 0 goto look
            r1 = map_by_idx(1) ll
            look:
            r2 = r10
            r2 += -4
            call 1
            r1 = map_by_idx(0) ll
            r2 = r10
            r2 += -4
            call 1
            r0 = 2
            exit
            """);
        using var first = new ArrayMap(new MapDefinition("first", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 8, 2));
        using var second = new ArrayMap(new MapDefinition("second", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 8, 2));
        var program = BpfProgram.Load(insns, new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [first, second] });
        var calls = Enumerable.Range(0, insns.Length).Where(i => insns[i].code == (BPF_JMP | BPF_CALL)).ToArray();
        Assert.Equal(-1, program.Verification.KnownMaps[calls[0]]);
        Assert.Same(first, program.Maps[program.Verification.KnownMaps[calls[1]]]);
    }

    [Fact]
    public void A_program_loaded_again_over_fresh_maps_looks_up_in_its_own_maps()
    {
        // The second load reuses the first one's verdict; its inlined lookups must still reach the second map.
        var definition = new MapDefinition("counts", bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4);
        using var old = MapFactory.Create(definition, Cpus);
        using var fresh = MapFactory.Create(definition, Cpus);
        BpfProgram.Load(Assembler.Assemble(AddProcessorIdAtPacketKey), new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [old] });
        var program = BpfProgram.Load(Assembler.Assemble(AddProcessorIdAtPacketKey), new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [fresh] });
        using var vm = new BpfVm(2);
        using var frame = new PacketBuffer();
        frame.Reset([1, 0, 0, 0]);
        Assert.Equal((xdp_action)1, ExecutionEngine.Jit.RunXdp(vm, program, ref frame.Context));
        var value = new byte[8 * Cpus];
        Assert.Equal(0, fresh.Lookup(BitConverter.GetBytes(1u), value));
        Assert.Equal(3ul, BitConverter.ToUInt64(value, 8 * 2));
        Assert.Equal(0, old.Lookup(BitConverter.GetBytes(1u), value));
        Assert.All(value, b => Assert.Equal(0, b));
    }

    /// <summary>Runs the program on every CPU with keys 0..3 and one past max_entries; the map's contents and r0s after.</summary>
    private static string Counts(bpf_map_type type, ExecutionEngine engine)
    {
        using var map = MapFactory.Create(new MapDefinition("counts", type, 4, 8, 4), Cpus);
        var program = BpfProgram.Load(Assembler.Assemble(AddProcessorIdAtPacketKey), new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [map] });
        for (uint key = 0; key < 3; key++)
            Assert.Equal(0, map.Update(BitConverter.GetBytes(key), new byte[8 * (map.IsPerCpu ? Cpus : 1)]));
        var verdicts = new List<xdp_action>();
        using var frame = new PacketBuffer();
        for (var processorId = 0; processorId < Cpus; processorId++)
        {
            using var vm = new BpfVm(processorId);
            foreach (byte key in new byte[] { 0, 1, 2, 3, 4 })
            {
                frame.Reset([key, 0, 0, 0]);
                verdicts.Add(engine.RunXdp(vm, program, ref frame.Context));
                Assert.Equal(FaultReason.None, vm.LastFault.Reason);
            }
        }
        var entries = map.Dump().OrderBy(e => Convert.ToHexString(e.Key)).Select(e => $"{Convert.ToHexString(e.Key)}={Convert.ToHexString(e.Value)}");
        return string.Join(",", verdicts) + " | " + string.Join("; ", entries);
    }
}
