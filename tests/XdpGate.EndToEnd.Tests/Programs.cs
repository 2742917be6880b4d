using XdpGate.Appliance.Bench;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;

namespace XdpGate.EndToEnd.Tests;

/// <summary>The programs the end-to-end tests run, in assembly, each small enough to read at a glance.</summary>
internal static class Programs
{
    public static BpfProgram Load(string asm) =>
        BpfProgram.Load(Assembler.Assemble(asm), new ProgramOptions { Name = "e2e", Type = bpf_prog_type.BPF_PROG_TYPE_XDP });

    public static BpfProgram Returning(int verdict) => Load($"r0 = {verdict}\nexit");

    /// <summary>XDP_TX after swapping the source and destination MACs, so the frame goes back to its sender.</summary>
    public static BpfProgram SwapMacsAndBounce() => Load(BenchPrograms.SwapMacsAndTx("r1"));

    /// <summary>Rewrites the destination MAC to <paramref name="mac"/> and redirects the frame to <paramref name="ifindex"/>.</summary>
    public static BpfProgram RewriteAndRedirect(byte[] mac, int ifindex) => Load($"""
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 14
        r0 = 1
        if r3 > r2 goto out
        *(u32 *)(r1 + 0) = {BitConverter.ToInt32(mac, 0)}
        *(u16 *)(r1 + 4) = {BitConverter.ToUInt16(mac, 4)}
        r1 = {ifindex}
        r2 = 0
        call 23
        out:
        exit
        """);

    /// <summary>
    /// Encapsulates the frame in a new Ethernet header (adjust_head by -14, EtherType 0x88b5, the IEEE's local
    /// experimental type) addressed back to its sender, and bounces it: the sender sees its frame, wrapped.
    /// </summary>
    public static BpfProgram EncapsulateAndBounce() => Load("""
        r6 = r1
        r2 = -14
        call 44
        if r0 != 0 goto drop
        r2 = *(u32 *)(r6 + 4)
        r1 = *(u32 *)(r6 + 0)
        r3 = r1
        r3 += 28
        if r3 > r2 goto drop
        r4 = *(u32 *)(r1 + 20)
        *(u32 *)(r1 + 0) = r4
        r4 = *(u16 *)(r1 + 24)
        *(u16 *)(r1 + 4) = r4
        r4 = *(u32 *)(r1 + 14)
        *(u32 *)(r1 + 6) = r4
        r4 = *(u16 *)(r1 + 18)
        *(u16 *)(r1 + 10) = r4
        *(u16 *)(r1 + 12) = 0xb588
        r0 = 3
        exit
        drop:
        r0 = 1
        exit
        """);
}
