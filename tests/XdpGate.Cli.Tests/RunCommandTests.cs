using System.Globalization;
using System.Text.RegularExpressions;
using XdpGate.Appliance.PcapFiles;
using Xunit;

namespace XdpGate.Cli.Tests;

public sealed class RunCommandTests : IDisposable
{
    private static readonly string Programs = Path.Combine(AppContext.BaseDirectory, "data", "programs");
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-run-");

    public void Dispose() => temp.Delete(recursive: true);

    private static string Object(string name) => Path.Combine(Programs, name + ".o");

    [Fact]
    public void A_synthetic_run_stops_after_its_count_and_reports_every_verdict()
    {
        // xdp_flow_lru lets each source send 6 frames per CPU, then drops it: 8 flows on one worker pass 48.
        var (exit, output, error) = CliRunner.Run("", "run", "--driver", "synthetic", "--iface", "syn0", "--prog", Object("xdp_flow_lru"), "--count", "10000", "--flows", "8");
        Assert.True(exit == 0, error);
        Assert.Contains("Summary: 10,000 frames", output, StringComparison.Ordinal);
        Assert.Contains("port syn0 (ifindex 1): rx 10,000 (600,000 bytes), abort 0, drop 9,952, pass 48,", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_worker_has_its_own_per_CPU_map_slot()
    {
        // Two CPUs' budgets pass 2 x 48 = 96; one shared slot would pass 48. When both workers miss a new source at
        // once, one BPF_NOEXIST create fails and that CPU's slot starts at 0, not 1: one extra pass per source at
        // most, as in the kernel.
        var (exit, output, error) = CliRunner.Run("", "run", "-d", "synthetic", "-i", "syn0", "--prog", Object("xdp_flow_lru") + ":xdp_flow_lru", "-n", "10000", "--flows", "8", "--workers", "2");
        Assert.True(exit == 0, error);
        var passed = int.Parse(Regex.Match(output, @"drop [0-9,]+, pass ([0-9,]+),").Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.InRange(passed, 96, 96 + 8);
        Assert.Contains("worker 1: rx 5,000", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_with_a_duration_stops_and_prints_a_line_per_second_when_asked()
    {
        var (exit, output, error) = CliRunner.Run("", "run", "-d", "synthetic", "-i", "syn0", "--prog", Object("xdp_meta_mark"), "--duration", "1.5", "--stats", "--rate", "100000");
        Assert.True(exit == 0, error);
        Assert.Matches(@"syn0\s+[0-9,]+ rx/s\s+0 abort/s\s+0 drop/s\s+[0-9,]+ pass/s", output);
        Assert.Contains("Summary: ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pcap_run_writes_what_each_port_transmits_and_passes()
    {
        var input = Path.Combine(temp.FullName, "wan.pcap");
        WriteCapture(input, File.ReadLines(Path.Combine(Programs, "xdp_ipip_tunnel.packets")).Where(l => l.Length > 0 && l[0] != '#'));
        var (exit, output, error) = CliRunner.Run("", "run", "--driver", "pcap", "--iface", input, "--prog", Object("xdp_ipip_tunnel"), "--pcap-out", temp.FullName, "--engine", "jit");
        Assert.True(exit == 0, error);
        Assert.Contains("rx 15 ", output, StringComparison.Ordinal);
        Assert.Equal(4, Records(Path.Combine(temp.FullName, "wan.tx.pcap")));
        Assert.Equal(6, Records(Path.Combine(temp.FullName, "wan.pass.pcap")));
    }

    /// <summary>
    /// configs/programs/xdp_ttl_guard drops frames below min_ttl (a read-only global) or from a source its blocked_src
    /// map holds; the generator sends TTL 64 from 198.18.0.1 and 198.18.0.2 in turn.
    /// </summary>
    [Theory]
    [InlineData("", 0, 1000)]
    [InlineData("--maps-init|BLOCKED", 500, 500)]
    [InlineData("--rodata|min_ttl=65", 1000, 0)]
    [InlineData("--rodata|min_ttl=64|--maps-init|BLOCKED", 500, 500)]
    public void A_run_sets_read_only_globals_and_fills_maps_before_the_first_frame(string extra, int dropped, int passed)
    {
        var blocked = Path.Combine(temp.FullName, "blocked.json");
        File.WriteAllText(blocked, """{"blocked_src":[{"key":"c6120001","value":"01"}]}""");
        string[] options = extra.Length == 0 ? [] : [.. extra.Split('|').Select(a => a == "BLOCKED" ? blocked : a)];
        var guard = Path.Combine(AppContext.BaseDirectory, "configs", "programs", "xdp_ttl_guard.o");

        var (exit, output, error) = CliRunner.Run("", ["run", "-d", "synthetic", "-i", "syn0", "--prog", guard, "-n", "1000", "--flows", "2", .. options]);

        Assert.True(exit == 0, error);
        Assert.Contains($"drop {dropped:N0}, pass {passed:N0},", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Pass_names_the_port_that_passed_frames_leave_by_and_two_ports_make_an_inline_pair()
    {
        var west = Path.Combine(temp.FullName, "west.pcap");
        var east = Path.Combine(temp.FullName, "east.pcap");
        WriteCapture(west, File.ReadLines(Path.Combine(Programs, "xdp_ipip_tunnel.packets")).Where(l => l.Length > 0 && l[0] != '#'));
        WriteCapture(east, []);

        var (exit, output, error) = CliRunner.Run("", "run", "-d", "pcap", "-i", west, "-i", east, "--pass", "east", "--prog", Object("xdp_ipip_tunnel"), "--pcap-out", temp.FullName);

        Assert.True(exit == 0, error);
        Assert.Contains("port east (ifindex 2): rx 0 ", output, StringComparison.Ordinal);
        Assert.Equal(6, Records(Path.Combine(temp.FullName, "east.tx.pcap")));
        Assert.Equal(4, Records(Path.Combine(temp.FullName, "west.tx.pcap")));
        Assert.Equal(0, Records(Path.Combine(temp.FullName, "west.pass.pcap")));
    }

    [Theory]
    [InlineData("--rodata|min_ttl", "--rodata min_ttl: expected NAME=VALUE")]
    [InlineData("--rodata|max_ttl=3", "no read-only global 'max_ttl' in ")]
    [InlineData("--rodata|min_ttl=300", "300 does not fit 'min_ttl', a 1-byte variable")]
    [InlineData("--maps-init|/nonexistent/maps.json", "/nonexistent/maps.json: no such file")]
    public void Bad_program_settings_are_refused_naming_them(string extra, string message)
    {
        var guard = Path.Combine(AppContext.BaseDirectory, "configs", "programs", "xdp_ttl_guard.o");
        var (exit, _, error) = CliRunner.Run("", ["run", "-d", "synthetic", "-i", "syn0", "--prog", guard, "-n", "10", .. extra.Split('|')]);
        Assert.Equal(1, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--pass|nosuch", "--pass nosuch: no such port (ports: syn0; or 'host')")]
    [InlineData("-i|syn0", "port 'syn0' is given more than once")]
    [InlineData("--size|20", "--size 20: frames are 42")]
    [InlineData("--flows|0", "--flows 0: between 1 and")]
    [InlineData("--workers|0", "--workers 0: at least one")]
    [InlineData("--cpus|1-0", "--cpus 1-0: range '1-0' runs backwards")]
    public void Bad_options_are_refused_naming_the_option(string extra, string message)
    {
        var (exit, _, error) = CliRunner.Run("", ["run", "-d", "synthetic", "-i", "syn0", "--prog", Object("xdp_meta_mark"), "-n", "10", .. extra.Split('|')]);
        Assert.Equal(1, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_program_name_is_refused_listing_the_objects_programs()
    {
        var (exit, _, error) = CliRunner.Run("", "run", "-d", "synthetic", "-i", "syn0", "--prog", Object("xdp_meta_mark") + ":nope", "-n", "10");
        Assert.Equal(1, exit);
        Assert.Contains("xdp_meta_mark.o has no program or section 'nope' (programs: xdp_meta_mark)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_capture_is_refused_naming_it()
    {
        var (exit, _, error) = CliRunner.Run("", "run", "--driver", "pcap", "-i", "/nonexistent/in.pcap", "--prog", Object("xdp_meta_mark"));
        Assert.Equal(1, exit);
        Assert.Contains("/nonexistent/in.pcap", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_in_process_bench_reports_a_rate_per_mode()
    {
        var (exit, output, error) = CliRunner.Run("", "bench", "--driver", "synthetic", "--mode", "drop", "--mode", "tx", "--duration", "1.5");
        Assert.True(exit == 0, error);
        Assert.Matches(@"drop\s+xdpgate synthetic jit\s+[1-9][0-9]*\.[0-9]{3}", output);
        Assert.Matches(@"tx\s+xdpgate synthetic jit\s+[1-9][0-9]*\.[0-9]{3}", output);
    }

    [Fact]
    public void A_bench_reference_directory_that_does_not_exist_is_an_error_naming_it()
    {
        var (exit, _, error) = CliRunner.Run("", "bench", "--reference", "/nonexistent/xdpgate-references", "--mode", "drop");
        Assert.Equal(1, exit);
        Assert.Contains("--reference /nonexistent/xdpgate-references: no such directory", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--dst|8.8.8.8", "--dst 8.8.8.8: benchmark traffic stays in 198.18.0.0/15 or 2001:2::/48")]
    [InlineData("--dst-mac|zz", "--dst-mac zz: not a MAC address")]
    public void The_generator_refuses_traffic_outside_the_benchmark_ranges(string extra, string message)
    {
        var (exit, _, error) = CliRunner.Run("", ["gen", "-i", "lo", "--count", "1", .. extra.Split('|')]);
        Assert.Equal(1, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run", "afxdp")]
    [InlineData("run", "afpacket")]
    [InlineData("gen", "afpacket")]
    public void An_interface_that_does_not_exist_is_an_error_naming_it(string command, string driver)
    {
        string[] rest = command == "run" ? ["--prog", Object("xdp_meta_mark"), "--duration", "1"] : ["--count", "1"];
        var (exit, _, error) = CliRunner.Run("", [command, "--driver", driver, "-i", "xgnosuchif0", .. rest]);
        Assert.Equal(1, exit);
        Assert.Contains("xgnosuchif0", error, StringComparison.Ordinal);
    }

    private static void WriteCapture(string path, IEnumerable<string> frames)
    {
        using var file = File.Create(path);
        using var writer = new PcapWriter(file);
        foreach (var frame in frames)
            writer.Write(DateTimeOffset.UnixEpoch, Convert.FromHexString(frame));
    }

    private static int Records(string path)
    {
        using var file = File.OpenRead(path);
        return PcapReader.ReadAsync(file, path).ToBlockingEnumerable().Count();
    }
}
