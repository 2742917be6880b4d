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

/// <summary>
/// Every atomic form, compiled from a verified program whose atomic is proven (so inline, without a run-time check),
/// gives what the interpreter gives: the memory, the fetched register and r0. The conformance cases run the same
/// forms unverified, through the checked path.
/// </summary>
public sealed class JitAtomicTests
{
    public static TheoryData<string, string> Forms()
    {
        string[] forms =
        [
            "lock *(u64 *)(r1 + 0) += r2", "lock *(u32 *)(r1 + 0) += w2",
            "lock *(u64 *)(r1 + 0) |= r2", "lock *(u32 *)(r1 + 0) |= w2",
            "lock *(u64 *)(r1 + 0) &= r2", "lock *(u32 *)(r1 + 0) &= w2",
            "lock *(u64 *)(r1 + 0) ^= r2", "lock *(u32 *)(r1 + 0) ^= w2",
            "r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)", "w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)",
            "r2 = atomic_fetch_or((u64 *)(r1 + 0), r2)", "w2 = atomic_fetch_or((u32 *)(r1 + 0), w2)",
            "r2 = atomic_fetch_and((u64 *)(r1 + 0), r2)", "w2 = atomic_fetch_and((u32 *)(r1 + 0), w2)",
            "r2 = atomic_fetch_xor((u64 *)(r1 + 0), r2)", "w2 = atomic_fetch_xor((u32 *)(r1 + 0), w2)",
            "r2 = xchg_64(r1 + 0, r2)", "w2 = xchg32_32(r1 + 0, w2)",
            "r0 = cmpxchg_64(r1 + 0, r0, r2)", "w0 = cmpxchg32_32(r1 + 0, w0, w2)",
        ];
        var data = new TheoryData<string, string>();
        foreach (var form in forms)
        {
            data.Add(form, "map value");
            data.Add(form, "stack");
        }
        return data;
    }

    // (memory, operand, r0): upper halves that 32-bit forms must ignore and keep, carries, and for cmpxchg a
    // comparison that matches only in the low half, one that matches in full and one that does not.
    private static readonly (ulong Memory, ulong Operand, ulong R0)[] Values =
    [
        (0x0000_0001_ffff_fffe, 0xffff_ffff_0000_0003, 0x1234_5678_ffff_fffe),
        (0x8000_0000_0000_0000, 0x8000_0000_0000_0001, 0x8000_0000_0000_0000),
        (0xaaaa_aaaa_5555_5555, 0x0f0f_0f0f_f0f0_f0f0, 0),
    ];

    [Theory]
    [MemberData(nameof(Forms))]
    public void A_proven_atomic_compiles_inline_and_computes_what_the_interpreter_computes(string form, string target)
    {
        // The inputs come from the map, so the verifier knows nothing of them; the results go back to it:
        // value = memory (the map's cell), operand, r0, the stack cell afterwards.
        var pointer = target == "stack" ? "r1 = r10\nr1 += -16" : "r1 = r6";
        var insns = Assembler.Assemble($"""
            *(u32 *)(r10 - 4) = 0
            r2 = r10
            r2 += -4
            r1 = map_by_idx(0) ll
            call 1
            if r0 == 0 goto out
            r6 = r0
            r1 = *(u64 *)(r6 + 0)
            *(u64 *)(r10 - 16) = r1
            {pointer}
            r2 = *(u64 *)(r6 + 8)
            r0 = *(u64 *)(r6 + 16)
            {form}
            *(u64 *)(r6 + 8) = r2
            *(u64 *)(r6 + 16) = r0
            r1 = *(u64 *)(r10 - 16)
            *(u64 *)(r6 + 24) = r1
            out:
            r0 = 2
            exit
            """);
        using var cells = new ArrayMap(new MapDefinition("cells", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 32, 1));
        var program = BpfProgram.Load(insns, new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [cells] });
        var atomic = Array.FindIndex(insns, i => Mode(i.code) == BPF_ATOMIC);
        Assert.True(program.Verification.ProvenAccess[atomic]);
        Assert.Equal(0, JitCompiler.Compile(program).CheckedAccesses);

        foreach (var (memory, operand, r0) in Values)
        {
            var expected = Run(ExecutionEngine.Interpreter, program, cells, memory, operand, r0);
            var actual = Run(ExecutionEngine.Jit, program, cells, memory, operand, r0);
            Assert.Equal(expected, actual);
        }
    }

    private static string Run(ExecutionEngine engine, BpfProgram program, ArrayMap cells, ulong memory, ulong operand, ulong r0)
    {
        var key = new byte[4];
        var value = new byte[32];
        BitConverter.TryWriteBytes(value.AsSpan(0), memory);
        BitConverter.TryWriteBytes(value.AsSpan(8), operand);
        BitConverter.TryWriteBytes(value.AsSpan(16), r0);
        Assert.Equal(0, cells.Update(key, value));
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(new byte[64]);
        Assert.Equal(xdp_action.XDP_PASS, engine.RunXdp(vm, program, ref frame.Context));
        Assert.Equal(FaultReason.None, vm.LastFault.Reason);
        Assert.Equal(0, cells.Lookup(key, value));
        return Convert.ToHexString(value);
    }
}
