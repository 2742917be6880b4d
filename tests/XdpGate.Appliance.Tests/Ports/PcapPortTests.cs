using XdpGate.Appliance.Config;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Service;
using XdpGate.Appliance.Tests.Dataplane;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Xdp;
using Xunit;

namespace XdpGate.Appliance.Tests.Ports;

/// <summary>
/// Corpus programs replayed through the pcap port and the workers, as `xdpgate run -d pcap` runs them: every frame the kernel answered with
/// XDP_TX must appear in the port's TX capture, and every XDP_PASS frame in its pass capture, byte for byte as the
/// kernel left it (after adjust_head, adjust_tail, checksum and MAC rewrites), in order, and nothing else.
/// </summary>
public sealed class PcapPortTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("xdpgate-pcap-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    public static TheoryData<string, ExecutionEngine> Corpus()
    {
        var data = new TheoryData<string, ExecutionEngine>();
        foreach (var name in new[] { "xdp_ipip_tunnel", "xdp_trim_pad", "xdp_router_nat", "xdp_atomics", "xdp_lpm_acl", "xdp_payload_hash", "xdp_meta_mark", "xdp_l4_filter" })
        {
            data.Add(name, ExecutionEngine.Interpreter);
            data.Add(name, ExecutionEngine.Jit);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Transmitted_and_passed_frames_are_written_exactly_as_the_kernel_left_them(string name, ExecutionEngine engine)
    {
        var frames = CorpusFrames.Read(name);
        var input = Path.Combine(directory, "lan1.pcap");
        CorpusFrames.WritePcap(input, frames.Select(f => f.Input));

        var summary = Run(name, engine, [input]);

        Assert.Equal(Expected(frames, xdp_action.XDP_TX), CorpusFrames.ReadPcap(Path.Combine(directory, "lan1.tx.pcap")));
        Assert.Equal(Expected(frames, xdp_action.XDP_PASS), CorpusFrames.ReadPcap(Path.Combine(directory, "lan1.pass.pcap")));
        var total = summary.Stats.Total;
        Assert.Equal(frames.Count, total.RxPackets);
        foreach (var verdict in Enum.GetValues<xdp_action>())
            Assert.Equal(frames.Count(f => f.Retval == (uint)verdict), total.Count(verdict));
        Assert.Equal(0, total.ErrorTotal);
    }

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Jit)]
    public void Devmap_redirects_and_broadcasts_leave_through_the_ports_the_entries_name(ExecutionEngine engine)
    {
        var frames = CorpusFrames.Read("xdp_devmap_fwd");
        var ports = new[] { "lan1", "lan2", "lan3" }.Select(p => Path.Combine(directory, p + ".pcap")).ToArray();
        CorpusFrames.WritePcap(ports[0], frames.Select(f => f.Input));
        CorpusFrames.WritePcap(ports[1], []);
        CorpusFrames.WritePcap(ports[2], []);
        // Devmap port 1 is lan2 (ifindex 2), port 2 is lan3; the rest stay empty, as in the corpus.
        var maps = """{"tx_ports":[{"key":"01000000","value":"02000000"},{"key":"02000000","value":"03000000"}]}""";

        var summary = Run("xdp_devmap_fwd", engine, ports, maps);

        // Frame numbers as in xdp_devmap_fwd.packets: 1 broadcasts (to every entry but the ingress port),
        // 2, 10 and 15 go to devmap port 1, 3 to port 2.
        string Frame(int number) => Convert.ToHexStringLower(frames[number - 1].Output);
        Assert.Equal([Frame(1), Frame(2), Frame(10), Frame(15)], CorpusFrames.ReadPcap(Path.Combine(directory, "lan2.tx.pcap")));
        Assert.Equal([Frame(1), Frame(3)], CorpusFrames.ReadPcap(Path.Combine(directory, "lan3.tx.pcap")));
        Assert.Equal(Expected(frames, xdp_action.XDP_PASS), CorpusFrames.ReadPcap(Path.Combine(directory, "lan1.pass.pcap")));
        Assert.Empty(CorpusFrames.ReadPcap(Path.Combine(directory, "lan1.tx.pcap")));
        var lan1 = summary.Stats.Ports[0].Total;
        Assert.Equal(5, lan1.Count(xdp_action.XDP_REDIRECT));
        Assert.Equal(1, lan1.Count(xdp_action.XDP_ABORTED));
        Assert.Equal(1, lan1.Aborts[(int)FaultReason.None]);
        Assert.Equal(4, summary.Stats.Ports[1].Total.TxPackets);
        Assert.Equal(2, summary.Stats.Ports[2].Total.TxPackets);
    }

    [Fact]
    public void An_inline_pair_passes_each_ports_frames_out_of_the_other()
    {
        var frames = CorpusFrames.Read("xdp_ipip_tunnel");
        var ports = new[] { "west", "east" }.Select(p => Path.Combine(directory, p + ".pcap")).ToArray();
        CorpusFrames.WritePcap(ports[0], frames.Select(f => f.Input));
        CorpusFrames.WritePcap(ports[1], []);

        Run("xdp_ipip_tunnel", ExecutionEngine.Interpreter, ports, pass: "east");

        Assert.Equal(Expected(frames, xdp_action.XDP_PASS), CorpusFrames.ReadPcap(Path.Combine(directory, "east.tx.pcap")));
        Assert.Equal(Expected(frames, xdp_action.XDP_TX), CorpusFrames.ReadPcap(Path.Combine(directory, "west.tx.pcap")));
        Assert.Empty(CorpusFrames.ReadPcap(Path.Combine(directory, "west.pass.pcap")));
    }

    [Fact]
    public void A_capture_that_is_not_pcap_is_refused_naming_the_file()
    {
        var bad = Path.Combine(directory, "bad.pcap");
        File.WriteAllBytes(bad, new byte[40]);
        var error = Assert.Throws<ConfigBuildException>(() => Run("xdp_meta_mark", ExecutionEngine.Interpreter, [bad]));
        Assert.Contains("opening port 'bad'", error.Message, StringComparison.Ordinal);
        Assert.Contains("bad.pcap", error.Message, StringComparison.Ordinal);
    }

    private static List<string> Expected(IEnumerable<RecordedFrame> frames, xdp_action verdict) =>
        [.. frames.Where(f => f.Retval == (uint)verdict).Select(f => Convert.ToHexStringLower(f.Output))];

    /// <summary>Runs corpus program <paramref name="name"/> on the captures as `run -d pcap --iface ... --prog ... --pcap-out` does, to their end.</summary>
    private RunSummary Run(string name, ExecutionEngine engine, string[] captures, string? maps = null, string pass = PortConfig.HostPass)
    {
        var mapsFile = Programs.DataFile("programs", name + ".maps.json");
        if (maps is not null)
            File.WriteAllText(mapsFile = Path.Combine(directory, name + ".maps.json"), maps);
        var program = ProgramConfig.ForObject(Programs.DataFile("programs", name + ".o")) with { MapsFile = File.Exists(mapsFile) ? mapsFile : null };
        var config = CommandLineConfig.Create(PortDriver.Pcap, captures, pass, WorkersConfig.Default, program);
        Assert.Empty(config.Diagnostics.Items);
        var options = new ApplianceOptions { Workers = new WorkerOptions { Engine = engine, Pin = false }, PcapOutput = directory, StopWhenTrafficEnds = true };
        using var appliance = RunningAppliance.Create(config.Config!, options);
        appliance.Start();
        var summary = appliance.RunUntil(CancellationToken.None, TimeSpan.FromSeconds(30));
        Assert.True(appliance.Pool.Workers.All(w => w.Finished), "the replay did not reach the end of the captures");
        return summary;
    }
}
