using System.Text.Json;
using XdpGate.Appliance.Control;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Service;
using Xunit;

namespace XdpGate.Cli.Tests;

/// <summary>
/// The client commands against the control socket of the appliance running configs/demo.yaml (a copy whose socket is
/// the test's), after demo.pcap went through its firewall: status, stats, rules, map and reload asked through the socket.
/// </summary>
public sealed class ControlCommandTests : IAsyncLifetime
{
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-cli-control-");
    private RunningAppliance appliance = null!;
    private ControlServer server = null!;

    private string Socket => Path.Combine(temp.FullName, "control.sock");

    private string ConfigPath => Path.Combine(temp.FullName, "demo.yaml");

    public Task InitializeAsync()
    {
        var configs = Path.Combine(AppContext.BaseDirectory, "configs");
        File.WriteAllText(ConfigPath, File.ReadAllText(Path.Combine(configs, "demo.yaml"))
            .Replace("pcap: demo.pcap", $"pcap: {Path.Combine(configs, "demo.pcap")}", StringComparison.Ordinal)
            .Replace("/tmp/xdpgate-demo.sock", Socket, StringComparison.Ordinal));
        appliance = RunningAppliance.FromFile(ConfigPath, new ApplianceOptions { Workers = new WorkerOptions { Pin = false }, WatchConfig = false });
        appliance.Start();
        Assert.True(appliance.Pool.Join(TimeSpan.FromSeconds(10)), "demo.pcap was not replayed within 10 s");
        server = ControlServer.Start(Socket, appliance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        appliance.Dispose();
        temp.Delete(recursive: true);
    }

    private (int Exit, string Out, string Error) Run(params string[] args) => CliRunner.Run("", [.. args, "--control", Socket]);

    [Fact]
    public void Rules_show_what_demo_pcap_did_to_each_rule()
    {
        var (exit, output, _) = Run("rules");

        Assert.Equal(0, exit);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal("    #       packets           bytes  action  name: match", lines[0]);
        Assert.Equal("    1             1              54  pass    ssh-admin: src 198.18.0.0/24,2001:2:0:1::/64 protocol 6 dport 22", lines[1]);
        Assert.Equal("    2             1              54  drop    ssh-others: protocol 6 dport 22", lines[2]);
        Assert.Equal("    3             1              54  drop    blocked-sources: src 198.18.66.0/24,198.18.67.0/24", lines[3]);
        Assert.Equal("    4             1              46  count   dns-seen: protocol 17 dport 53", lines[4]);
        Assert.Equal("    5             1              66  drop    memcached: protocol 17 dport 11211", lines[5]);

        var (_, json, _) = Run("rules", "-j");
        using var document = JsonDocument.Parse(json);
        Assert.Equal(5, document.RootElement.GetArrayLength());
    }

    [Fact]
    public void Status_and_stats_describe_the_running_firewall()
    {
        var (exit, status, _) = Run("status");
        Assert.Equal(0, exit);
        Assert.Contains("prog xdp_firewall", status, StringComparison.Ordinal);
        Assert.Contains("ports in", status, StringComparison.Ordinal);

        var (_, stats, _) = Run("stats");
        Assert.Contains("firewall.default.packets 3", stats, StringComparison.Ordinal);

        var (_, json, _) = Run("stats", "-j");
        using var document = JsonDocument.Parse(json);
        Assert.Equal(3UL, document.RootElement.GetProperty("firewall.default.packets").GetUInt64());
    }

    [Fact]
    public void Map_commands_read_and_write_like_bpftool()
    {
        var (_, list, _) = Run("map", "list");
        Assert.Contains("fw_actions: array  key 4B  value 4B  max_entries 65536  flags 0x0", list, StringComparison.Ordinal);

        var (exit, lookup, _) = Run("map", "lookup", "fw_actions", "key", "u32", "1");
        Assert.Equal(0, exit);
        Assert.Equal("key: 01 00 00 00  value: 01 00 00 00\n", lookup);

        Assert.Equal(0, Run("map", "update", "fw_ingress", "key", "hex", "07", "00", "00", "00", "value", "u32", "2").Exit);
        var (_, dump, _) = Run("map", "dump", "fw_ingress");
        Assert.Equal("key: 07 00 00 00  value: 02 00 00 00\nFound 1 element\n", dump);

        // Worker 0 counted rule 1's one packet of 0x36 bytes; the other CPUs' slots (one per CPU of the machine) are zero.
        var (_, counts, _) = Run("map", "lookup", "fw_rule_counts", "key", "u32", "0", "-j");
        using var entry = JsonDocument.Parse(counts);
        Assert.Equal("[\"0x00\",\"0x00\",\"0x00\",\"0x00\"]", entry.RootElement.GetProperty("key").GetRawText());
        Assert.Equal("{\"cpu\":0,\"value\":[\"0x01\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x36\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\"]}",
            entry.RootElement.GetProperty("values")[0].GetRawText());

        var (failed, _, error) = Run("map", "delete", "fw_ingress", "key", "u32", "8");
        Assert.Equal((1, "error: map 'fw_ingress': ENOENT\n"), (failed, error));
    }

    [Fact]
    public void Reload_reports_success_or_why_the_old_config_keeps_serving()
    {
        var (ok, reloaded, _) = Run("reload");
        Assert.Equal((0, "reloaded\n"), (ok, reloaded));

        File.WriteAllText(ConfigPath, "prots: []\n" + File.ReadAllText(ConfigPath));
        var (exit, _, error) = Run("reload");
        Assert.Equal(1, exit);
        Assert.StartsWith($"error: reload failed, the running config keeps serving: {ConfigPath}:1:1: error: unknown key 'prots'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_command_without_a_running_appliance_says_so()
    {
        var (exit, _, error) = CliRunner.Run("", "status", "--control", Path.Combine(temp.FullName, "nobody.sock"));

        Assert.Equal(1, exit);
        Assert.Contains("is xdpgate running with this control socket?", error, StringComparison.Ordinal);
    }
}
