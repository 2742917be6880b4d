using System.Text.Json;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.Control;
using XdpGate.Appliance.Pcap;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Xdp;
using Xunit;

namespace XdpGate.Cli.Tests;

/// <summary>
/// The client commands against a control socket served for configs/demo.yaml: its firewall compiled and loaded,
/// demo.pcap run through it in our JIT, then status, stats, rules, map and reload asked through the socket.
/// </summary>
public sealed class ControlCommandTests : IAsyncLifetime
{
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-cli-control-");
    private LoadedObject loaded = null!;
    private ControlServer server = null!;
    private string? reloadError;

    private string Socket => Path.Combine(temp.FullName, "control.sock");

    public async Task InitializeAsync()
    {
        var configs = Path.Combine(AppContext.BaseDirectory, "configs");
        var config = ConfigReader.ReadFile(Path.Combine(configs, "demo.yaml")).Config!;
        loaded = BuiltinFirewall.Load(RuleCompiler.Compile(config.Firewall), possibleCpus: 1);
        var program = loaded.Programs[FirewallMaps.Program];
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        await using var pcap = File.OpenRead(Path.Combine(configs, "demo.pcap"));
        await foreach (var record in PcapReader.ReadAsync(pcap, "demo.pcap"))
        {
            frame.Reset(record.Data);
            ExecutionEngine.Jit.RunXdp(vm, program, ref frame.Context);
        }
        server = ControlServer.Start(Socket, new LoadedProgramControl(config, loaded, () => reloadError));
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        loaded.Dispose();
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

        var (_, counts, _) = Run("map", "lookup", "fw_rule_counts", "key", "u32", "0", "-j");
        Assert.Equal("{\"key\":[\"0x00\",\"0x00\",\"0x00\",\"0x00\"],\"values\":[{\"cpu\":0,\"value\":[\"0x01\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x36\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\"]}]}\n", counts);

        var (failed, _, error) = Run("map", "delete", "fw_ingress", "key", "u32", "8");
        Assert.Equal((1, "error: map 'fw_ingress': ENOENT\n"), (failed, error));
    }

    [Fact]
    public void Reload_reports_success_or_why_the_old_config_keeps_serving()
    {
        var (ok, reloaded, _) = Run("reload");
        Assert.Equal((0, "reloaded\n"), (ok, reloaded));

        reloadError = "demo.yaml:3:1: error: unknown key 'prots'";
        var (exit, _, error) = Run("reload");
        Assert.Equal(1, exit);
        Assert.Equal("error: reload failed, the running config keeps serving: demo.yaml:3:1: error: unknown key 'prots'\n", error);
    }

    [Fact]
    public void A_client_command_without_a_running_appliance_says_so()
    {
        var (exit, _, error) = CliRunner.Run("", "status", "--control", Path.Combine(temp.FullName, "nobody.sock"));

        Assert.Equal(1, exit);
        Assert.Contains("is xdpgate running with this control socket?", error, StringComparison.Ordinal);
    }
}
