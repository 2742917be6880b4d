using System.Text.Json;
using Xunit;
using XdpGate.Appliance.PcapFiles;

namespace XdpGate.Cli.Tests;

public sealed class ProgCommandTests : IDisposable
{
    private static readonly string Programs = Path.Combine(AppContext.BaseDirectory, "data", "programs");
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-prog-");

    private static string Object(string name) => Path.Combine(Programs, name + ".o");

    private string Temp(string name) => Path.Combine(temp.FullName, name);

    /// <summary>The sample packet of the README's quick start: an IPv4 TCP SYN to port 80.</summary>
    private static byte[] TcpSyn() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "data", "packets", "ipv4_tcp_syn_port80.bin"));

    [Fact]
    public void Prog_show_lists_programs_and_maps()
    {
        var (exit, output, _) = CliRunner.Run("", "prog", "show", Object("xdp_tailcall"));
        Assert.Equal(0, exit);
        Assert.Contains("prog xdp_dispatch  section xdp  type xdp", output, StringComparison.Ordinal);
        Assert.Contains("map jmp_table  type prog_array  key 4B  value 4B  max_entries 8", output, StringComparison.Ordinal);

        var (_, json, _) = CliRunner.Run("", "prog", "show", Object("xdp_tailcall"), "-j");
        using var document = JsonDocument.Parse(json);
        Assert.Equal(5, document.RootElement.GetProperty("programs").GetArrayLength());
    }

    [Fact]
    public void Prog_dump_interleaves_c_source_lines()
    {
        var (exit, output, _) = CliRunner.Run("", "prog", "dump", Object("xdp_payload_hash"));
        Assert.Equal(0, exit);
        Assert.Contains("; int xdp_payload_hash(struct xdp_md *ctx) [xdp_payload_hash.c:", output, StringComparison.Ordinal);
        Assert.Contains("    0: r6 = r1", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_single_prog_run_says_its_duration_includes_first_call_costs()
    {
        var packet = Temp("single");
        File.WriteAllBytes(packet, TcpSyn());
        var (exit, output, _) = CliRunner.Run("", "prog", "run", Object("xdp_meta_mark"), "--data-in", packet);
        Assert.Equal(0, exit);
        Assert.Matches(@"^Return value: \d+, duration \(average\): \d+ns \(one run, first-call costs included; --repeat 100000 for a steady figure\)$", output.Trim());
    }

    [Theory]
    [InlineData("interp")]
    [InlineData("jit")]
    public void Repeated_runs_give_the_retval_and_data_out_of_a_single_run(string engine)
    {
        var packet = Temp("syn");
        File.WriteAllBytes(packet, TcpSyn());
        var (exit, single, error) = CliRunner.Run("", "prog", "run", Object("xdp_l4_filter"), "--data-in", packet, "--engine", engine, "-j");
        Assert.True(exit == 0, error);
        (exit, var repeated, error) = CliRunner.Run("", "prog", "run", Object("xdp_l4_filter"), "--data-in", packet, "--engine", engine,
            "--repeat", "1000", "-j");
        Assert.True(exit == 0, error);
        using var one = JsonDocument.Parse(single);
        using var many = JsonDocument.Parse(repeated);
        Assert.Equal(one.RootElement.GetProperty("retval").GetInt32(), many.RootElement.GetProperty("retval").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(TcpSyn()), many.RootElement.GetProperty("data_out").GetString());
        Assert.Equal(one.RootElement.GetProperty("data_out").GetString(), many.RootElement.GetProperty("data_out").GetString());
    }

    /// <summary>
    /// xdp_flow_lru passes 6 packets from a source and drops the 7th: the warm-up before timed runs must not count
    /// against the budget, so `--repeat` answers for exactly its own runs, as the kernel's test run does.
    /// </summary>
    [Theory]
    [InlineData("interp", 6, 2)]
    [InlineData("interp", 7, 1)]
    [InlineData("jit", 6, 2)]
    [InlineData("jit", 7, 1)]
    public void Repeated_runs_see_maps_that_only_their_own_runs_changed(string engine, int repeat, int retval)
    {
        var packet = Temp("flow-syn");
        File.WriteAllBytes(packet, Convert.FromHexString(File.ReadLines(Path.Combine(Programs, "xdp_flow_lru.packets"))
            .First(l => l.Length > 0 && l[0] != '#')));
        var (exit, output, error) = CliRunner.Run("", "prog", "run", Object("xdp_flow_lru"), "--data-in", packet, "--engine", engine,
            "--repeat", repeat.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(exit == 0, error);
        Assert.Matches($@"^Return value: {retval}, duration \(average\): \d+ns$", output.Trim());
    }

    [Theory]
    [InlineData("interp")]
    [InlineData("jit")]
    public void Prog_run_prints_bpftools_line_and_json_with_data_out(string engine)
    {
        var packet = Temp("syn");
        File.WriteAllBytes(packet, TcpSyn());
        var mapsInit = Path.Combine(Programs, "xdp_tailcall.maps.json");
        var (exit, output, _) = CliRunner.Run("", "prog", "run", Object("xdp_tailcall"), "--prog", "xdp_dispatch",
            "--data-in", packet, "--maps-init", mapsInit, "--repeat", "10", "--engine", engine);
        Assert.Equal(0, exit);
        Assert.Matches(@"^Return value: 2, duration \(average\): \d+ns$", output.Trim());

        var dataOut = Temp("out");
        var (_, json, _) = CliRunner.Run("", "prog", "run", Object("xdp_tailcall"), "--prog", "xdp_dispatch",
            "--data-in", packet, "--maps-init", mapsInit, "--data-out", dataOut, "-j", "--engine", engine);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(2, document.RootElement.GetProperty("retval").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(TcpSyn()), document.RootElement.GetProperty("data_out").GetString());
        Assert.Equal(TcpSyn(), File.ReadAllBytes(dataOut));
    }

    [Fact]
    public async Task Prog_replay_keeps_map_state_and_writes_transmitted_frames()
    {
        var frames = File.ReadLines(Path.Combine(Programs, "xdp_router_nat.packets"))
            .Where(l => l.Length > 0 && l[0] != '#').Select(Convert.FromHexString).ToArray();
        var input = Temp("in.pcap");
        await using (var file = File.Create(input))
        using (var writer = new PcapWriter(file))
        {
            foreach (var frame in frames)
                writer.Write(DateTimeOffset.UnixEpoch, frame);
        }
        var output = Temp("out.pcap");
        var (exit, json, error) = CliRunner.Run("", "prog", "replay", Object("xdp_router_nat"), "--pcap", input,
            "--out-pcap", output, "--maps-init", Path.Combine(Programs, "xdp_router_nat.maps.json"), "-j");
        Assert.True(exit == 0, error);
        using var document = JsonDocument.Parse(json);
        var packets = document.RootElement.GetProperty("packets").EnumerateArray().ToArray();
        Assert.Equal(frames.Length, packets.Length);
        var transmitted = packets.Count(p => p.GetProperty("retval").GetInt32() is 3 or 4);
        Assert.True(transmitted > 0);
        var written = new List<PcapRecord>();
        await foreach (var record in PcapReader.ReadAsync(File.OpenRead(output), output))
            written.Add(record);
        Assert.Equal(transmitted, written.Count);
        Assert.True(document.RootElement.GetProperty("maps").EnumerateObject().Any());
    }

    [SkippableFact]
    public void Prog_commands_take_c_source_when_clang_is_installed()
    {
        Skip.IfNot(File.Exists("/usr/bin/clang") && File.Exists("/usr/include/bpf/bpf_helpers.h"),
            "clang or the libbpf headers are missing (apt-get install clang libbpf-dev)");
        var (exit, output, error) = CliRunner.Run("", "prog", "load", Path.Combine(Programs, "xdp_l4_filter.c"));
        Assert.True(exit == 0, error);
        Assert.Contains("loaded 1 program(s)", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nonexistent.o", "no such file")]
    [InlineData("xdp_tailcall.packets", "")]
    public void Bad_objects_are_reported_with_exit_1(string file, string message)
    {
        var (exit, _, error) = CliRunner.Run("", "prog", "show", Path.Combine(Programs, file));
        Assert.Equal(1, exit);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_programs_and_bad_maps_init_name_what_is_wrong()
    {
        var packet = Temp("syn");
        File.WriteAllBytes(packet, TcpSyn());
        var (exit, _, error) = CliRunner.Run("", "prog", "run", Object("xdp_tailcall"), "--prog", "nope", "--data-in", packet);
        Assert.Equal(1, exit);
        Assert.Contains("no program or section named 'nope'", error, StringComparison.Ordinal);

        var badInit = Temp("init.json");
        File.WriteAllText(badInit, """{"scratch":[{"key":"00000000","value":"0102"}]}""");
        (exit, _, error) = CliRunner.Run("", "prog", "run", Object("xdp_tailcall"), "--data-in", packet, "--maps-init", badInit);
        Assert.Equal(1, exit);
        Assert.Contains("map 'scratch' entry 0: value is 2 bytes, the map's value_size is 8", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(13, "is 13 bytes; an XDP frame needs at least an Ethernet header (14 bytes)")]
    [InlineData(3521, "is 3521 bytes; a frame holds at most 3520")]
    public void Packets_the_kernels_test_run_would_refuse_are_refused(int length, string message)
    {
        var packet = Temp("short");
        File.WriteAllBytes(packet, new byte[length]);
        var (exit, _, error) = CliRunner.Run("", "prog", "run", Object("xdp_l4_filter"), "--data-in", packet);
        Assert.Equal(1, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    public void Dispose() => temp.Delete(recursive: true);
}
