using XdpGate.Linux.Bpf;
using XdpGate.Linux;
using Xunit.Abstractions;
using Xunit;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// The frame geometry of bpf_xdp_adjust_head, _meta and _tail, measured in the kernel's BPF_PROG_TEST_RUN and
/// compared with our engine: each helper's delta comes from the packet's first 4 bytes, so one program sweeps many.
/// </summary>
public sealed class XdpAdjustAgreementTests(ITestOutputHelper output)
{
    private const int EINVAL = 22;
    private const int EACCES = 13;

    /// <summary>Calls helper <paramref name="helper"/>(ctx, delta) with the packet's first u32 as delta and returns its result.</summary>
    private static string AdjustByPacketWord(int helper) => $"""
        r6 = r1
        r2 = *(u32 *)(r6 + 0)
        r3 = *(u32 *)(r6 + 4)
        r4 = r2
        r4 += 4
        if r4 > r3 goto short
        r2 = *(u32 *)(r2 + 0)
        r1 = r6
        call {helper}
        exit
        short:
        r0 = 99
        exit
        """;

    private static byte[] PacketWithDelta(int delta, int length = 60)
    {
        var packet = new byte[length];
        BitConverter.GetBytes(delta).CopyTo(packet, 0);
        for (var i = 4; i < length; i++)
            packet[i] = (byte)i;
        return packet;
    }

    private static string Line(int delta, XdpRun run) =>
        $"delta {delta}: result {(int)run.Retval}, metadata {run.Metadata.Length}, packet {run.Packet.Length}";

    /// <summary>Runs the sweep on both; returns both tables and the kernel's runs by delta.</summary>
    private (List<string> Kernel, List<string> Engine, Dictionary<int, XdpRun> KernelRuns) Sweep(
        int helper, IEnumerable<int> deltas, int length = 60, byte[]? metadata = null)
    {
        using var both = new KernelAndEngine();
        both.Load("adjust", AdjustByPacketWord(helper));
        var kernel = new List<string>();
        var engine = new List<string>();
        var runs = new Dictionary<int, XdpRun>();
        foreach (var delta in deltas)
        {
            var packet = PacketWithDelta(delta, length);
            var (k, e) = both.Run("adjust", packet, metadata);
            kernel.Add(Line(delta, k));
            engine.Add(Line(delta, e));
            runs[delta] = k;
            // Whatever moved, the bytes the program did not touch are where they were.
            if (k.Retval == 0 && helper == 65)
                Assert.Equal(packet.AsSpan(0, Math.Min(packet.Length, k.Packet.Length)).ToArray(), k.Packet.AsSpan(0, Math.Min(packet.Length, k.Packet.Length)).ToArray());
        }
        foreach (var line in kernel)
            output.WriteLine($"kernel {line}");
        return (kernel, engine, runs);
    }

    private static int Result(XdpRun run) => (int)run.Retval;

    [SkippableFact]
    public void Adjust_head_grows_into_the_headroom_less_xdp_frame_and_keeps_an_ethernet_header()
    {
        KernelObject.Require();
        var deltas = Enumerable.Range(-230, 30).Concat(Enumerable.Range(40, 10)).ToList();
        var (kernel, engine, runs) = Sweep(44, deltas);

        // Measured on 6.18: 256 bytes of headroom less sizeof(struct xdp_frame) = 40; data_end - data >= ETH_HLEN.
        Assert.Equal(-216, deltas.Where(d => Result(runs[d]) == 0).Min());
        Assert.Equal(-EINVAL, Result(runs[-217]));
        Assert.Equal(46, deltas.Where(d => Result(runs[d]) == 0).Max());
        Assert.Equal(-EINVAL, Result(runs[47]));
        Assert.Equal(60 + 216, runs[-216].Packet.Length);
        Assert.Equal(14, runs[46].Packet.Length);
        Agreement.Compare("bpf_xdp_adjust_head on a 60-byte packet", kernel, engine);
    }

    [SkippableFact]
    public void Adjust_head_growth_leaves_room_for_the_metadata_it_carries()
    {
        KernelObject.Require();
        var deltas = Enumerable.Range(-220, 20).ToList();
        var (kernel, engine, runs) = Sweep(44, deltas, metadata: [1, 2, 3, 4, 5, 6, 7, 8]);

        Assert.Equal(-208, deltas.Where(d => Result(runs[d]) == 0).Min());
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], runs[-208].Metadata);
        Agreement.Compare("bpf_xdp_adjust_head with 8 bytes of metadata", kernel, engine);
    }

    [SkippableFact]
    public void Adjust_meta_takes_multiples_of_4_up_to_the_headroom_less_xdp_frame()
    {
        KernelObject.Require();
        var deltas = Enumerable.Range(-260, 269).ToList();
        var (kernel, engine, runs) = Sweep(54, deltas);

        // Measured on 6.18: no 32-byte cap any more; the headroom (256 less the 40-byte xdp_frame) is the limit.
        var accepted = deltas.Where(d => Result(runs[d]) == 0).ToList();
        Assert.Equal(Enumerable.Range(0, 55).Select(i => -4 * i).Order(), accepted);
        Assert.Equal(216, runs[-216].Metadata.Length);
        Assert.Equal(-EINVAL, Result(runs[-220]));
        Assert.Equal(-EACCES, Result(runs[-2]));
        Assert.Equal(-EACCES, Result(runs[-34]));
        Assert.Equal(-EINVAL, Result(runs[4]));
        Agreement.Compare("bpf_xdp_adjust_meta", kernel, engine);
    }

    [SkippableFact]
    public void Adjust_tail_grows_a_60_byte_packet_to_the_frame_less_skb_shared_info()
    {
        KernelObject.Require();
        var deltas = Enumerable.Range(3455, 10).Concat([-45, -46, -47, -60, 1, 100]).ToList();
        var (kernel, engine, runs) = Sweep(65, deltas);

        Assert.Equal(3460, deltas.Where(d => Result(runs[d]) == 0).Max());
        Assert.Equal(3520, runs[3460].Packet.Length);
        Assert.Equal(-EINVAL, Result(runs[3461]));
        Assert.Equal(-46, deltas.Where(d => Result(runs[d]) == 0).Min());
        Assert.Equal(-EINVAL, Result(runs[-47]));
        // Grown bytes are zeroed.
        Assert.All(runs[100].Packet[60..], b => Assert.Equal(0, b));
        Agreement.Compare("bpf_xdp_adjust_tail on a 60-byte packet", kernel, engine);
    }

    [SkippableFact]
    public void Test_run_data_out_covers_metadata_and_packet()
    {
        KernelObject.Require();
        using var both = new KernelAndEngine();
        // Grows 8 bytes of metadata and fills them, after the data_meta bounds check the verifier wants.
        both.Load("meta", """
            r6 = r1
            r1 = r6
            r2 = -8
            call 54
            if r0 != 0 goto out
            r2 = *(u32 *)(r6 + 8)
            r3 = *(u32 *)(r6 + 0)
            r4 = r2
            r4 += 8
            if r4 > r3 goto out
            r5 = 0x8877665544332211 ll
            *(u64 *)(r2 + 0) = r5
            out:
            r0 = 2
            exit
            """);
        both.Load("pass", "r0 = 2\nexit");
        var packet = PacketWithDelta(0);

        var grown = both.Kernel.TestRun("meta", packet);
        Assert.Equal(68u, grown.DataSizeOut);
        Assert.Equal([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, .. packet], grown.DataOut);
        Assert.Equal(8u, BitConverter.ToUInt32(grown.CtxOut, 0)); // xdp_md.data: data's offset from data_meta

        var given = both.Kernel.TestRun("pass", packet, [9, 9, 9, 9]);
        Assert.Equal([9, 9, 9, 9, .. packet], given.DataOut);
        Assert.Equal(4u, BitConverter.ToUInt32(given.CtxOut, 0));
        Assert.Equal(64u, BitConverter.ToUInt32(given.CtxOut, 4));
        output.WriteLine($"data_out after adjust_meta(-8): {grown.DataSizeOut} bytes = 8 metadata + {packet.Length} packet; ctx_out.data = 8");

        var (kernelGrown, engineGrown) = both.Run("meta", packet);
        var (kernelGiven, engineGiven) = both.Run("pass", packet, [9, 9, 9, 9]);
        Agreement.Compare("data_meta..data_end after a run",
            [Convert.ToHexString([.. kernelGrown.Metadata, .. kernelGrown.Packet]), Convert.ToHexString([.. kernelGiven.Metadata, .. kernelGiven.Packet])],
            [Convert.ToHexString([.. engineGrown.Metadata, .. engineGrown.Packet]), Convert.ToHexString([.. engineGiven.Metadata, .. engineGiven.Packet])]);
    }

    [SkippableFact]
    public void Test_run_takes_metadata_in_multiples_of_4_up_to_216_bytes()
    {
        KernelObject.Require();
        using var both = new KernelAndEngine();
        both.Load("pass", "r0 = 2\nexit");
        var results = new List<string>();
        foreach (var length in new[] { 0, 4, 32, 36, 216, 220, 2 })
        {
            try
            {
                var run = both.Kernel.Run("pass", PacketWithDelta(0), new byte[length]);
                results.Add($"{length}: metadata {run.Metadata.Length}, packet {run.Packet.Length}");
            }
            catch (BpfSyscallException e)
            {
                results.Add($"{length}: {e.Command} {ErrnoName(e.Errno)}");
            }
        }
        output.WriteLine(string.Join('\n', results));
        Assert.Equal(["0: metadata 0, packet 60", "4: metadata 4, packet 60", "32: metadata 32, packet 60", "36: metadata 36, packet 60",
            "216: metadata 216, packet 60", "220: BPF_PROG_TEST_RUN EINVAL", "2: BPF_PROG_TEST_RUN EINVAL"], results);
    }

    [SkippableFact]
    public void Test_run_input_beyond_3520_bytes_goes_to_fragments_the_program_does_not_see()
    {
        KernelObject.Require();
        using var both = new KernelAndEngine();
        // Returns data_end - data: the linear part the program can reach.
        both.Load("linear", """
            r2 = *(u32 *)(r1 + 0)
            r3 = *(u32 *)(r1 + 4)
            r0 = r3
            r0 -= r2
            exit
            """);
        var results = new List<string>();
        foreach (var size in new[] { 3520, 3521, 5000, 70000 })
        {
            var packet = Enumerable.Range(0, size).Select(i => (byte)i).ToArray();
            var run = both.Kernel.TestRun("linear", packet);
            Assert.Equal(packet, run.DataOut);
            results.Add($"{size}: linear {run.Retval}, data_size_out {run.DataSizeOut}, xdp_md.data_end {BitConverter.ToUInt32(run.CtxOut, 4)}");
        }
        output.WriteLine(string.Join('\n', results));
        // A program loaded without BPF_F_XDP_HAS_FRAGS still runs; data_out carries the fragments back.
        Assert.Equal(["3520: linear 3520, data_size_out 3520, xdp_md.data_end 3520", "3521: linear 3520, data_size_out 3521, xdp_md.data_end 3520",
            "5000: linear 3520, data_size_out 5000, xdp_md.data_end 3520", "70000: linear 3520, data_size_out 70000, xdp_md.data_end 3520"], results);
        // Our frames are single-buffer: the same 3520 bytes at most, and no fragments.
        Assert.Equal(3520, XdpGate.Bpf.Xdp.XdpLayout.MaxPacketSize);
    }

    private static string ErrnoName(int errno) => XdpGate.Linux.ErrnoText.Name(errno);
}
