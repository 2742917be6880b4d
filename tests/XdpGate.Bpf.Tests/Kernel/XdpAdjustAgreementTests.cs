using XdpGate.Bpf.Xdp;
using XdpGate.Linux.Bpf;
using XdpGate.Uapi;
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

    /// <summary>The sweep on one target: each delta's run, in order.</summary>
    private static List<(int Delta, XdpRun Run)> Sweep(KernelAgreement.Open open, int helper, IEnumerable<int> deltas, int length = 60, byte[]? metadata = null)
    {
        using var target = open();
        target.Load("adjust", AdjustByPacketWord(helper));
        var runs = new List<(int, XdpRun)>();
        foreach (var delta in deltas)
        {
            var packet = PacketWithDelta(delta, length);
            var run = target.Run("adjust", packet, metadata);
            runs.Add((delta, run));
            // Whatever moved, the bytes the program did not touch are where they were.
            if (run.Retval == 0 && helper == 65)
                Assert.Equal(packet.AsSpan(0, Math.Min(packet.Length, run.Packet.Length)).ToArray(), run.Packet.AsSpan(0, Math.Min(packet.Length, run.Packet.Length)).ToArray());
        }
        return runs;
    }

    /// <summary>Our engine's sweep, by delta, for a test to state the geometry it shows.</summary>
    private Dictionary<int, XdpRun> EngineSweep(int helper, IReadOnlyList<int> deltas, int length = 60, byte[]? metadata = null)
    {
        var ours = Sweep(maps => new EngineObject(maps, KernelObject.PossibleCpuCount), helper, deltas, length, metadata);
        foreach (var (delta, run) in ours)
            output.WriteLine($"engine {Line(delta, run)}");
        return ours.ToDictionary(r => r.Delta, r => r.Run);
    }

    /// <summary>The sweep checked against the kernel's, recorded and live: last in a test, since it may skip.</summary>
    private static void CheckWithKernel(string record, string title, int helper, IReadOnlyList<int> deltas, int length = 60, byte[]? metadata = null) =>
        KernelAgreement.Check(record, title, open => Sweep(open, helper, deltas, length, metadata).Select(r => Line(r.Delta, r.Run)));

    private static int Result(XdpRun run) => (int)run.Retval;

    [SkippableFact]
    public void Adjust_head_grows_into_the_headroom_less_xdp_frame_and_keeps_an_ethernet_header()
    {
        var deltas = Enumerable.Range(-230, 30).Concat(Enumerable.Range(40, 10)).ToList();
        var runs = EngineSweep(44, deltas);

        // Linux 6.18: 256 bytes of headroom less sizeof(struct xdp_frame) = 40; data_end - data >= ETH_HLEN.
        Assert.Equal(-216, deltas.Where(d => Result(runs[d]) == 0).Min());
        Assert.Equal(-EINVAL, Result(runs[-217]));
        Assert.Equal(46, deltas.Where(d => Result(runs[d]) == 0).Max());
        Assert.Equal(-EINVAL, Result(runs[47]));
        Assert.Equal(60 + 216, runs[-216].Packet.Length);
        Assert.Equal(14, runs[46].Packet.Length);
        CheckWithKernel("xdp-adjust/adjust-head.txt", "bpf_xdp_adjust_head(ctx, delta) on a 60-byte packet, per delta: result, metadata and packet lengths", 44, deltas);
    }

    [SkippableFact]
    public void Adjust_head_growth_leaves_room_for_the_metadata_it_carries()
    {
        var deltas = Enumerable.Range(-220, 20).ToList();
        var runs = EngineSweep(44, deltas, metadata: [1, 2, 3, 4, 5, 6, 7, 8]);

        Assert.Equal(-208, deltas.Where(d => Result(runs[d]) == 0).Min());
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], runs[-208].Metadata);
        CheckWithKernel("xdp-adjust/adjust-head-with-metadata.txt", "bpf_xdp_adjust_head(ctx, delta) on a 60-byte packet carrying 8 bytes of metadata", 44, deltas, metadata: [1, 2, 3, 4, 5, 6, 7, 8]);
    }

    [SkippableFact]
    public void Adjust_meta_takes_multiples_of_4_up_to_the_headroom_less_xdp_frame()
    {
        var deltas = Enumerable.Range(-260, 269).ToList();
        var runs = EngineSweep(54, deltas);

        // Linux 6.18: no 32-byte cap any more; the headroom (256 less the 40-byte xdp_frame) is the limit.
        var accepted = deltas.Where(d => Result(runs[d]) == 0).ToList();
        Assert.Equal(Enumerable.Range(0, 55).Select(i => -4 * i).Order(), accepted);
        Assert.Equal(216, runs[-216].Metadata.Length);
        Assert.Equal(-EINVAL, Result(runs[-220]));
        Assert.Equal(-EACCES, Result(runs[-2]));
        Assert.Equal(-EACCES, Result(runs[-34]));
        Assert.Equal(-EINVAL, Result(runs[4]));
        CheckWithKernel("xdp-adjust/adjust-meta.txt", "bpf_xdp_adjust_meta(ctx, delta) on a 60-byte packet, per delta", 54, deltas);
    }

    [SkippableFact]
    public void Adjust_tail_grows_a_60_byte_packet_to_the_frame_less_skb_shared_info()
    {
        var deltas = Enumerable.Range(3455, 10).Concat([-45, -46, -47, -60, 1, 100]).ToList();
        var runs = EngineSweep(65, deltas);

        Assert.Equal(3460, deltas.Where(d => Result(runs[d]) == 0).Max());
        Assert.Equal(3520, runs[3460].Packet.Length);
        Assert.Equal(-EINVAL, Result(runs[3461]));
        Assert.Equal(-46, deltas.Where(d => Result(runs[d]) == 0).Min());
        Assert.Equal(-EINVAL, Result(runs[-47]));
        // Grown bytes are zeroed.
        Assert.All(runs[100].Packet[60..], b => Assert.Equal(0, b));
        CheckWithKernel("xdp-adjust/adjust-tail.txt", "bpf_xdp_adjust_tail(ctx, delta) on a 60-byte packet, per delta", 65, deltas);
    }

    [SkippableFact]
    public void Test_run_data_out_covers_metadata_and_packet()
    {
        var packet = PacketWithDelta(0);
        KernelAgreement.Check("xdp-adjust/data-out-with-metadata.txt", "a test run's output from data_meta to data_end: 8 bytes of metadata grown and written, and 4 given in",
            open =>
            {
                using var target = open();
                // Grows 8 bytes of metadata and fills them, after the data_meta bounds check the verifier wants.
                target.Load("meta", """
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
                target.Load("pass", "r0 = 2\nexit");
                var grown = target.Run("meta", packet);
                var given = target.Run("pass", packet, [9, 9, 9, 9]);
                return [Output("adjust_meta(-8) then written", grown), Output("4 bytes given in", given)];
            });
    }

    private static string Output(string what, XdpRun run) =>
        $"{what}: retval {run.Retval}, metadata {Convert.ToHexString(run.Metadata)}, packet {Convert.ToHexString(run.Packet)}";

    [SkippableFact]
    public void Test_run_takes_metadata_in_multiples_of_4_up_to_216_bytes()
    {
        KernelAgreement.Check("xdp-adjust/test-run-metadata-sizes.txt", "which lengths of metadata a test run takes in front of a 60-byte packet", open =>
        {
            using var target = open();
            target.Load("pass", "r0 = 2\nexit");
            var results = new List<string>();
            foreach (var length in new[] { 0, 4, 32, 36, 216, 220, 2 })
            {
                try
                {
                    var run = target.Run("pass", PacketWithDelta(0), new byte[length]);
                    results.Add($"{length}: metadata {run.Metadata.Length}, packet {run.Packet.Length}");
                }
                catch (BpfSyscallException e)
                {
                    results.Add($"{length}: refused, {ErrnoName(e.Errno)}");
                }
                catch (ArgumentException e) when (e.ParamName == "metadata")
                {
                    results.Add($"{length}: refused, {ErrnoName(EINVAL)}");
                }
            }
            return results;
        });
    }

    [SkippableFact]
    public void Test_run_input_beyond_3520_bytes_goes_to_fragments_the_program_does_not_see()
    {
        KernelAgreement.Check("xdp-adjust/linear-part.txt", "how much of a test run's input an XDP program loaded without BPF_F_XDP_HAS_FRAGS sees", open =>
        {
            using var target = open();
            // Returns data_end - data: the linear part the program can reach.
            target.Load("linear", """
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
                if (target is KernelObject kernel)
                {
                    // The rest goes into fragments, which data_out carries back whole.
                    var run = kernel.TestRun("linear", packet);
                    Assert.Equal(packet, run.DataOut);
                    results.Add($"{size}: linear {run.Retval}");
                    results.Add($"# {size}: data_size_out {run.DataSizeOut}, xdp_md.data_end {BitConverter.ToUInt32(run.CtxOut, 4)}");
                }
                else
                {
                    // Our frames are single-buffer: a program sees the same linear part, and nothing beyond it exists.
                    var run = target.Run("linear", packet[..Math.Min(size, XdpLayout.MaxPacketSize)]);
                    results.Add($"{size}: linear {run.Retval}");
                }
            }
            return results;
        });
    }

    private static string ErrnoName(int errno) => ErrnoText.Name(errno);
}
