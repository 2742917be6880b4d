using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// bpf_tail_call's chain limit, measured by a program that counts its runs in a map and tail-calls itself (slot 0);
/// optionally it first tail-calls an empty slot (1), to see whether a miss spends one of the chain's calls.
/// </summary>
public sealed class TailCallAgreementTests
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

    /// <summary>How many times the program ran, for both ways of naming the slots.</summary>
    private static IEnumerable<string> Runs(KernelAgreement.Open open, bool throughEmptySlot)
    {
        foreach (var indexFromPacket in new[] { false, true })
        {
            using var target = open(Maps);
            target.Load("chain", Chain(throughEmptySlot, indexFromPacket));
            target.SetTailCall(0, 0, "chain");
            var packet = new byte[60];
            packet[0] = 0;
            packet[1] = 1;
            var run = target.Run("chain", packet);
            var runs = BitConverter.ToUInt64(target.Dump(1).Single().Value);
            yield return $"{(indexFromPacket ? "index from the packet" : "constant index")}: {run}, {runs} runs";
        }
    }

    private static ulong EngineRuns(bool throughEmptySlot, bool indexFromPacket)
    {
        var line = Runs(maps => new EngineObject(maps, KernelObject.PossibleCpuCount), throughEmptySlot).ElementAt(indexFromPacket ? 1 : 0);
        return ulong.Parse(line.Split(", ")[^1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    [SkippableFact]
    public void A_chain_runs_the_entry_program_and_33_tail_calls()
    {
        Assert.Equal(1UL + 33, EngineRuns(throughEmptySlot: false, indexFromPacket: false)); // MAX_TAIL_CALL_CNT = 33
        KernelAgreement.Check("tail-call-chain.txt", "a program that counts its runs and tail-calls itself: runs in the chain", open => Runs(open, throughEmptySlot: false));
    }

    [SkippableFact]
    public void A_tail_call_to_an_empty_slot_does_not_spend_one_of_the_33()
    {
        // Measured on 6.18 with the x86-64 JIT (bpf_jit_enable=1), for constant and packet-borne slot numbers alike:
        // 34 runs, as without the detour, so a miss is free. Were each miss spent, every run would spend 2 of the 33
        // calls and the 17th run would spend the 33rd on the miss: 17 runs.
        Assert.Equal(34UL, EngineRuns(throughEmptySlot: true, indexFromPacket: true));
        KernelAgreement.Check("tail-call-through-an-empty-slot.txt", "the same chain, first tail-calling an empty slot each run: runs in the chain", open => Runs(open, throughEmptySlot: true));
    }
}
