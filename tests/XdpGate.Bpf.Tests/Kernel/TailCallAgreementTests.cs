using XdpGate.Bpf.Maps;
using Xunit;
using Xunit.Abstractions;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// bpf_tail_call's chain limit, measured by a program that counts its runs in a map and tail-calls itself (slot 0);
/// optionally it first tail-calls an empty slot (1), to see whether a miss spends one of the chain's calls.
/// </summary>
public sealed class TailCallAgreementTests(ITestOutputHelper output)
{
    private static readonly MapDefinition[] Maps =
    [
        new("jump", bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4),
        new("runs", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 8, 1),
    ];

    /// <summary>
    /// With <paramref name="indexFromPacket"/> the slots come from packet bytes 0 (self) and 1 (empty), so the kernel
    /// cannot see a constant key and its JIT emits an indirect tail call instead of a patched direct jump.
    /// </summary>
    private static string Chain(bool throughEmptySlot, bool indexFromPacket) => $"""
        r6 = r1
        r7 = 0
        r8 = 1
        {(indexFromPacket ? """
            r2 = *(u32 *)(r6 + 0)
            r3 = *(u32 *)(r6 + 4)
            r4 = r2
            r4 += 2
            if r4 > r3 goto out
            r7 = *(u8 *)(r2 + 0)
            r8 = *(u8 *)(r2 + 1)
            """ : "")}
        r1 = 0
        *(u32 *)(r10 - 4) = r1
        r2 = r10
        r2 += -4
        r1 = map_by_idx(1) ll
        call 1
        if r0 == 0 goto out
        r1 = *(u64 *)(r0 + 0)
        r1 += 1
        *(u64 *)(r0 + 0) = r1
        {(throughEmptySlot ? """
            r1 = r6
            r2 = map_by_idx(0) ll
            r3 = r8
            call 12
            """ : "")}
        r1 = r6
        r2 = map_by_idx(0) ll
        r3 = r7
        call 12
        out:
        r0 = 2
        exit
        """;

    private (ulong Kernel, ulong Engine) Runs(bool throughEmptySlot, bool indexFromPacket)
    {
        using var both = new KernelAndEngine(Maps);
        both.Load("chain", Chain(throughEmptySlot, indexFromPacket));
        both.SetTailCall(0, 0, "chain");
        var packet = new byte[60];
        packet[0] = 0;
        packet[1] = 1;
        var (kernelRun, engineRun) = both.Run("chain", packet);
        Assert.Equal(2u, kernelRun.Retval);
        Assert.Equal(kernelRun.ToString(), engineRun.ToString());
        var (kernel, engine) = both.Dump(1);
        var runs = (Count(kernel), Count(engine));
        output.WriteLine($"{(throughEmptySlot ? "through an empty slot" : "self only")}, {(indexFromPacket ? "index from the packet" : "constant index")}: kernel {runs.Item1} runs, engine {runs.Item2}");
        return runs;
    }

    private static ulong Count(string dump) => BitConverter.ToUInt64(Convert.FromHexString(dump[(dump.IndexOf('=', StringComparison.Ordinal) + 1)..]));

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_chain_runs_the_entry_program_and_33_tail_calls(bool indexFromPacket)
    {
        KernelObject.Require();
        var (kernel, engine) = Runs(throughEmptySlot: false, indexFromPacket);
        Assert.Equal(1UL + 33, kernel); // MAX_TAIL_CALL_CNT = 33
        Agreement.Compare("tail-call chain length", [$"{kernel} runs"], [$"{engine} runs"]);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_tail_call_to_an_empty_slot_does_not_spend_one_of_the_33(bool indexFromPacket)
    {
        KernelObject.Require();
        var (kernel, engine) = Runs(throughEmptySlot: true, indexFromPacket);
        // Measured on 6.18 with the x86-64 JIT (bpf_jit_enable=1), for constant and packet-borne slot numbers alike:
        // 34 runs, as without the detour, so a miss is free. Were each miss spent, every run would spend 2 of the 33
        // calls and the 17th run would spend the 33rd on the miss: 17 runs.
        Assert.Equal(34UL, kernel);
        Agreement.Compare("tail-call chain through an empty slot", [$"{kernel} runs"], [$"{engine} runs"]);
    }
}
