using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Jit;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using XdpGate.Bpf.Xdp;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Jit;

/// <summary>The JIT leaves out exactly the run-time checks the verifier's proofs make redundant, and still computes the same.</summary>
public sealed class JitProofTests
{
    [Fact]
    public void Proven_accesses_compile_without_checks_and_only_context_loads_keep_theirs()
    {
        var source = File.ReadAllText(TestPrograms.DataFile("programs", "xdp_parse_count.s"));
        var insns = Assembler.Assemble(source);
        using var counters = new ArrayMap(new MapDefinition("counters", bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4), 2);
        var verified = BpfProgram.Load(insns, new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [counters] });
        var unverified = BpfProgram.Load(insns, new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [counters], Verification = VerificationLevel.None });

        var memoryAccesses = insns.Count(i => Class(i.code) is BPF_LDX or BPF_ST or BPF_STX);
        // r6 holds the context in this program.
        var contextLoads = insns.Count(i => Class(i.code) == BPF_LDX && i.src_reg == 6 && Size(i.code) == BPF_W);
        Assert.Equal(memoryAccesses, JitCompiler.Compile(unverified).CheckedAccesses);
        Assert.True(contextLoads > 0);
        Assert.Equal(contextLoads, JitCompiler.Compile(verified).CheckedAccesses);

        foreach (var packet in new[] { Packets.Udp4(53), Packets.Udp4(80, payload: 0), Packets.Udp4(53, etherType: 0x86dd), new byte[14] })
        {
            Assert.Equal(Run(ExecutionEngine.Interpreter, unverified, packet), Run(ExecutionEngine.Jit, verified, packet));
        }
    }

    [Fact]
    public void An_access_proven_on_one_path_but_not_another_keeps_its_check()
    {
        // The load at 'read' is through the stack on one path and through a ring buffer record (unproven) on the other.
        var insns = Assembler.Assemble("""
            r6 = r1
            r1 = map_by_idx(0) ll
            r2 = 8
            r3 = 0
            call 131
            if r0 == 0 goto out
            r7 = r0
            *(u64 *)(r10 - 8) = 1
            r1 = r10
            r1 += -8
            r2 = *(u32 *)(r6 + 16)
            if r2 == 0 goto read
            r1 = r7
            read:
            r8 = *(u64 *)(r1 + 0)
            r1 = r7
            r2 = 0
            call 133
            out:
            r0 = 2
            exit
            """);
        using var ring = new RingBufMap(new MapDefinition("ring", bpf_map_type.BPF_MAP_TYPE_RINGBUF, 0, 0, 4096));
        var program = BpfProgram.Load(insns, new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [ring] });
        var read = Array.FindIndex(insns, i => i.code == (BPF_LDX | BPF_MEM | BPF_DW));
        var store = Array.FindIndex(insns, i => i.code == (BPF_ST | BPF_MEM | BPF_DW));
        Assert.False(program.Verification.ProvenAccess[read]);
        Assert.True(program.Verification.ProvenAccess[store]);
    }

    private static (xdp_action, string) Run(ExecutionEngine engine, BpfProgram program, byte[] packet)
    {
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(packet);
        var verdict = engine.RunXdp(vm, program, ref frame.Context);
        return (verdict, Convert.ToHexString(frame.ToArrayWithMetadata()));
    }
}
