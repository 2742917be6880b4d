using System.Text.Json;
using XdpGate.Appliance.Control;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.PcapFiles;
using XdpGate.Appliance.Service;
using XdpGate.Appliance.Tests.Firewall;
using Xunit;

namespace XdpGate.Appliance.Tests.Service;

/// <summary>
/// The appliance run from configs/demo.yaml's rules over a capture of known traffic: what each rule counted, what
/// the port passed (written to a capture) and the control socket's view of it all, end to end.
/// </summary>
public sealed class ConfigRunTests : IDisposable
{
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-configrun-");

    public void Dispose() => temp.Delete(recursive: true);

    /// <summary>Frames per demo.yaml rule (and for no rule), in that order.</summary>
    private static readonly (string Rule, int Count, Func<int, byte[]> Frame)[] Traffic =
    [
        ("ssh-admin", 5, i => FirewallPackets.Ipv4($"198.18.0.{10 + i}", "198.19.0.1", FirewallPackets.Tcp, 40000 + i, 22)),
        ("ssh-others", 3, i => FirewallPackets.Ipv6($"2001:2:0:2::{i + 1}", "2001:2::1", FirewallPackets.Tcp, 40000 + i, 22)),
        ("blocked-sources", 4, i => FirewallPackets.Ipv4($"198.18.66.{i + 1}", "198.19.0.1", FirewallPackets.Udp, 5000, 80)),
        ("dns-seen", 6, i => FirewallPackets.Ipv4("198.18.1.1", "198.19.0.53", FirewallPackets.Udp, 30000 + i, 53)),
        ("memcached", 2, i => FirewallPackets.Ipv4("198.18.1.2", "198.19.0.1", FirewallPackets.Udp, 30000 + i, 11211)),
        ("", 10, i => FirewallPackets.Ipv4("198.18.1.3", "198.19.0.1", FirewallPackets.Udp, 30000 + i, 443)),
    ];

    /// <summary>demo.yaml with its capture replaced by <see cref="Traffic"/> and its socket moved into the test's directory.</summary>
    private string WriteConfig()
    {
        var capture = Path.Combine(temp.FullName, "traffic.pcap");
        using (var file = File.Create(capture))
        using (var writer = new PcapWriter(file))
        {
            foreach (var (_, count, frame) in Traffic)
            {
                for (var i = 0; i < count; i++)
                    writer.Write(DateTimeOffset.UnixEpoch, frame(i));
            }
        }
        var demo = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "configs", "demo.yaml"))
            .Replace("pcap: demo.pcap", $"pcap: {capture}", StringComparison.Ordinal)
            .Replace("/tmp/xdpgate-demo.sock", Path.Combine(temp.FullName, "control.sock"), StringComparison.Ordinal);
        var path = Path.Combine(temp.FullName, "demo.yaml");
        File.WriteAllText(path, demo);
        return path;
    }

    private RunningAppliance RunToEnd(string config)
    {
        var appliance = RunningAppliance.FromFile(config, new ApplianceOptions { Workers = new WorkerOptions { Pin = false }, PcapOutput = temp.FullName });
        appliance.Start();
        Assert.True(appliance.Pool.Join(TimeSpan.FromSeconds(10)), "the capture was not replayed within 10 s");
        return appliance;
    }

    [Fact]
    public void Each_rule_counts_exactly_the_packets_sent_to_it_and_only_passed_ones_leave()
    {
        using var appliance = RunToEnd(WriteConfig());

        var rules = appliance.Rules();
        Assert.Equal(Traffic.Where(t => t.Rule != "").Select(t => (t.Rule, (ulong)t.Count)), rules.Select(r => (r.Name!, r.Packets)));
        Assert.Equal((ulong)(14 + 20 + 20) * 5, rules[0].Bytes);
        var stats = appliance.Stats().ToDictionary(s => s.Key, s => s.Value);
        Assert.Equal(30UL, stats["port.in.rx_packets"]);
        Assert.Equal(9UL, stats["port.in.drop"]);
        Assert.Equal(21UL, stats["port.in.pass"]);
        // Count rules go on to the default: 6 DNS and 10 others.
        Assert.Equal(16UL, stats["firewall.default.packets"]);
        appliance.Dispose();
        // The pass target of a pcap port is its capture of the host stack: 5 ssh-admin, 6 DNS, 10 others.
        using var passed = File.OpenRead(Path.Combine(temp.FullName, "in.pass.pcap"));
        Assert.Equal(21, PcapReader.ReadAsync(passed, "in.pass.pcap").ToBlockingEnumerable().Count());
    }

    [Fact]
    public async Task The_control_socket_serves_status_stats_rules_maps_and_reloads_of_the_running_appliance()
    {
        var config = WriteConfig();
        using var appliance = RunToEnd(config);
        var socket = Path.Combine(temp.FullName, "control.sock");
        await using var server = ControlServer.Start(appliance.Config.Control.Socket, appliance);

        Assert.Contains("\"program\":\"xdp_firewall\"", ControlClient.Request(socket, "status"), StringComparison.Ordinal);
        Assert.Contains("\"port.in.rx_packets\":30,", ControlClient.Request(socket, "stats"), StringComparison.Ordinal);
        Assert.Contains("\"name\":\"dns-seen\",\"action\":\"count\",\"match\":\"protocol 17 dport 53\",\"packets\":6,", ControlClient.Request(socket, "rules"), StringComparison.Ordinal);
        Assert.Contains("\"name\":\"fw_rule_counts\"", ControlClient.Request(socket, "map", ["list"]), StringComparison.Ordinal);
        // Rule 4 (dns-seen, key 3) counted 6 packets on worker 0: the per-CPU value of CPU 0 starts 06 00 ...
        Assert.Contains("\"key\":\"03000000\",\"values\":[\"0600000000000000", ControlClient.Request(socket, "map", ["lookup", "fw_rule_counts", "key", "u32", "3"]), StringComparison.Ordinal);

        File.WriteAllText(config, File.ReadAllText(config).Replace("dport: 11211", "dport: 11212", StringComparison.Ordinal));
        Assert.Equal("\"reloaded\"", ControlClient.Request(socket, "reload"));
        var rules = ControlClient.Request(socket, "rules");
        Assert.Contains("\"name\":\"dns-seen\",\"action\":\"count\",\"match\":\"protocol 17 dport 53\",\"packets\":6,", rules, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"memcached\",\"action\":\"drop\",\"match\":\"protocol 17 dport 11212\",\"packets\":0,", rules, StringComparison.Ordinal);

        File.WriteAllText(config, "ports: [");
        var error = Assert.Throws<ControlRequestException>(() => ControlClient.Request(socket, "reload"));
        Assert.Matches(@"^reload failed, the running config keeps serving: .*demo\.yaml:\d+:\d+: error: not valid YAML", error.Message);
        Assert.Contains("dport 11212", ControlClient.Request(socket, "rules"), StringComparison.Ordinal);
        Assert.Contains("\"config.version\":2,\"reloads\":1,\"reload_failures\":1,", ControlClient.Request(socket, "stats"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_custom_program_runs_with_its_rodata_override_and_initial_map_contents()
    {
        var capture = Path.Combine(temp.FullName, "ttl.pcap");
        using (var file = File.Create(capture))
        using (var writer = new PcapWriter(file))
        {
            // 3 from a source the initial map blocks, 2 with TTL 10 (below min_ttl 32 as the config sets it), 4 fine.
            for (var i = 0; i < 3; i++)
                writer.Write(DateTimeOffset.UnixEpoch, FirewallPackets.Ipv4("198.18.0.66", "198.19.0.1", FirewallPackets.Udp, 1000 + i, 53));
            for (var i = 0; i < 2; i++)
            {
                var low = FirewallPackets.Ipv4("198.18.1.1", "198.19.0.1", FirewallPackets.Udp, 1000 + i, 53);
                low[22] = 10;
                writer.Write(DateTimeOffset.UnixEpoch, low);
            }
            for (var i = 0; i < 4; i++)
                writer.Write(DateTimeOffset.UnixEpoch, FirewallPackets.Ipv4("198.18.1.1", "198.19.0.1", FirewallPackets.Udp, 2000 + i, 53));
        }
        var configs = Path.Combine(AppContext.BaseDirectory, "configs");
        var config = Path.Combine(temp.FullName, "custom.yaml");
        File.WriteAllText(config, File.ReadAllText(Path.Combine(configs, "custom-program.yaml"))
            .Replace("pcap: demo.pcap", $"pcap: {capture}", StringComparison.Ordinal)
            .Replace("programs/", Path.Combine(configs, "programs") + "/", StringComparison.Ordinal)
            .Replace("/tmp/xdpgate-custom.sock", Path.Combine(temp.FullName, "control.sock"), StringComparison.Ordinal));

        using var appliance = RunToEnd(config);

        var stats = appliance.Stats().ToDictionary(s => s.Key, s => s.Value);
        Assert.Equal(5UL, stats["port.in.drop"]);
        Assert.Equal(4UL, stats["port.in.pass"]);
        Assert.Null(appliance.Builtin);
        Assert.Equal("xdp_ttl_guard", appliance.Status().Program);
        Assert.Equal(2, appliance.Maps["blocked_src"].Dump().Count());

        // .rodata is frozen after load (the verifier may have decided branches on it); the program's other maps are not.
        var control = new ControlRequestHandler(appliance);
        using (var refused = JsonDocument.Parse(control.Handle("{\"cmd\":\"map\",\"args\":[\"update\",\".rodata\",\"key\",\"u32\",\"0\",\"value\",\"0x05\"]}")))
            Assert.Equal("map '.rodata': EPERM (the map is frozen: read-only to the control plane)", refused.RootElement.GetProperty("error").GetString());
        using (var updated = JsonDocument.Parse(control.Handle("{\"cmd\":\"map\",\"args\":[\"update\",\"blocked_src\",\"key\",\"u32\",\"7\",\"value\",\"0x01\"]}")))
            Assert.True(updated.RootElement.GetProperty("ok").GetBoolean(), updated.RootElement.GetRawText());
        File.WriteAllText(config, File.ReadAllText(config).Replace("min_ttl: 32", "min_ttl: 5", StringComparison.Ordinal));
        Assert.Null(appliance.Reload());
        Assert.Equal(2, appliance.Version);
    }
}
