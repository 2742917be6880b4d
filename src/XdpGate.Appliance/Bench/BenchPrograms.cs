using XdpGate.Bpf.Isa;

namespace XdpGate.Appliance.Bench;

/// <summary>What a benchmark run asks of the program.</summary>
public enum BenchMode
{
    Drop,
    Pass,
    Tx,
    Redirect,
}

/// <summary>
/// One program per mode, the same bytecode for the appliance and for the kernel: count the frame in a per-CPU
/// array (slot 0), then give the mode's verdict (TX swaps the MACs first; REDIRECT calls bpf_redirect). The count
/// is how both sides are measured, by the same instructions.
/// </summary>
public static class BenchPrograms
{
    /// <summary>The program, with its counter map named by <paramref name="map"/> (`map_by_idx(0)` or `map_by_fd(N)`).</summary>
    public static bpf_insn[] Instructions(BenchMode mode, string map, int redirectIfindex) => Assembler.Assemble($"""
        r6 = r1
        r1 = 0
        *(u32 *)(r10 - 4) = r1
        r2 = r10
        r2 += -4
        r1 = {map} ll
        call 1
        if r0 == 0 goto verdict
        r1 = *(u64 *)(r0 + 0)
        r1 += 1
        *(u64 *)(r0 + 0) = r1
        verdict:
        {Verdict(mode, redirectIfindex)}
        """);

    private static string Verdict(BenchMode mode, int redirectIfindex) => mode switch
    {
        BenchMode.Drop => "r0 = 1\nexit",
        BenchMode.Pass => "r0 = 2\nexit",
        BenchMode.Redirect => $"r1 = {redirectIfindex}\nr2 = 0\ncall 23\nexit",
        _ => SwapMacsAndTx("r6"),
    };

    /// <summary>
    /// Assembly that swaps the frame's source and destination MACs and returns XDP_TX, so the frame goes back to its
    /// sender (XDP_DROP when it is shorter than an Ethernet header); <paramref name="context"/> holds the xdp_md pointer.
    /// </summary>
    public static string SwapMacsAndTx(string context) => $"""
        r2 = *(u32 *)({context} + 4)
        r1 = *(u32 *)({context} + 0)
        r3 = r1
        r3 += 14
        r0 = 1
        if r3 > r2 goto out
        r4 = *(u32 *)(r1 + 0)
        r5 = *(u16 *)(r1 + 4)
        r3 = *(u32 *)(r1 + 6)
        r0 = *(u16 *)(r1 + 10)
        *(u32 *)(r1 + 0) = r3
        *(u16 *)(r1 + 4) = r0
        *(u32 *)(r1 + 6) = r4
        *(u16 *)(r1 + 10) = r5
        r0 = 3
        out:
        exit
        """;
}
