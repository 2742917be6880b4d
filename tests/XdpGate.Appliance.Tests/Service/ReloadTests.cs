using XdpGate.Appliance.Control;
using XdpGate.Bpf.Execution;
using Xunit;

namespace XdpGate.Appliance.Tests.Service;

/// <summary>
/// Reloads while traffic flows: flows allowed by both configs lose nothing, flows denied by both leak nothing, the
/// counters of a rule present in both are exact across every swap, and a broken config changes nothing.
/// </summary>
public sealed class ReloadTests
{
    // Flow f comes from 198.18.0.(f+1). Both configs drop flow 1 (the same rule, at different positions); A also
    // drops flow 2, B flow 3; flow 0 passes in both.
    private const string ConfigA = """
        firewall:
          default: pass
          rules:
            - name: deny-flow1
              action: drop
              src: 198.18.0.2/32
            - name: deny-flow2
              action: drop
              src: 198.18.0.3/32
        """;

    private const string ConfigB = """
        firewall:
          default: pass
          rules:
            - name: deny-flow3
              action: drop
              src: 198.18.0.4/32
            - name: count-udp
              action: count
              protocol: udp
            - name: deny-flow1
              action: drop
              src: 198.18.0.2/32
        """;

    public static TheoryData<ExecutionEngine, int> Engines() => new() { { ExecutionEngine.Interpreter, 1 }, { ExecutionEngine.Jit, 2 } };

    [Theory]
    [MemberData(nameof(Engines))]
    public void Fifty_reloads_under_traffic_lose_no_allowed_packet_and_leak_no_denied_one(ExecutionEngine engine, int workers)
    {
        using var harness = new ApplianceHarness(ConfigA, workers, engine);
        harness.Appliance.Start();
        var rxBefore = 0L;
        for (var i = 0; i < 50; i++)
        {
            harness.Write(i % 2 == 0 ? ConfigB : ConfigA, workers);
            Assert.Null(harness.Appliance.Reload());
            // Traffic must be flowing through every swap, or the test proves nothing.
            var rx = harness.Appliance.Pool.Snapshot().Total.RxPackets;
            Assert.True(rx > rxBefore, $"no traffic between reloads {i - 1} and {i}");
            rxBefore = rx;
        }
        harness.StopTraffic();

        var sent = harness.Source.Sent;
        var arrived = harness.Sink.Arrived;
        Assert.Equal(sent[0], arrived[0]);
        Assert.Equal(0, arrived[1]);
        Assert.InRange(arrived[2], 1, sent[2] - 1);
        Assert.InRange(arrived[3], 1, sent[3] - 1);
        Assert.Equal(51, harness.Appliance.Version);
        // A was loaded last. deny-flow1, in both, carried its count through 50 swaps and a change of position;
        // deny-flow2 started afresh with the last load of A, as B did not have it.
        var rules = harness.Appliance.Rules().ToDictionary(r => r.Name!);
        Assert.Equal((ulong)sent[1], rules["deny-flow1"].Packets);
        Assert.Equal((ulong)sent[1] * 60, rules["deny-flow1"].Bytes);
        Assert.InRange(rules["deny-flow2"].Packets, 1UL, (ulong)(sent[2] - arrived[2]) - 1);
        var stats = harness.Appliance.Stats().ToDictionary(s => s.Key, s => s.Value);
        Assert.Equal((ulong)(arrived[0] + arrived[2] + arrived[3]), stats["firewall.default.packets"]);
        Assert.Equal((ulong)sent.Sum(), stats["port.in.rx_packets"]);
        Assert.Equal(50UL, stats["reloads"]);
    }

    [Fact]
    public void A_broken_config_is_refused_with_its_line_and_column_and_the_old_rules_keep_serving()
    {
        using var harness = new ApplianceHarness(ConfigA);
        harness.Appliance.Start();
        harness.Write(ConfigB.Replace("198.18.0.4/32", "198.18.0.4/33", StringComparison.Ordinal));

        var error = harness.Appliance.Reload();

        Assert.NotNull(error);
        Assert.Matches(@"appliance\.yaml:\d+:\d+: error: .*198\.18\.0\.4/33", error);
        Assert.Contains(harness.Log, l => l.StartsWith("Error: reload failed", StringComparison.Ordinal));
        Assert.Equal(1, harness.Appliance.Version);
        Assert.Equal(["deny-flow1", "deny-flow2"], harness.Appliance.Rules().Select(r => r.Name));
        Thread.Sleep(100);
        harness.StopTraffic();
        var arrived = harness.Sink.Arrived;
        Assert.Equal(harness.Source.Sent[0], arrived[0]);
        Assert.Equal(0, arrived[1] + arrived[2]);
        Assert.Equal(harness.Source.Sent[3], arrived[3]);
        Assert.Equal(1UL, harness.Appliance.Stats().Single(s => s.Key == "reload_failures").Value);
    }

    [Theory]
    [InlineData("workers: 2", "the workers differ")]
    [InlineData("control:\n  socket: /tmp/elsewhere.sock", "the control socket differs")]
    [InlineData("program:\n  object: missing.o", "missing.o")]
    public void A_reload_that_would_change_what_only_a_restart_sets_up_is_refused(string change, string expected)
    {
        using var harness = new ApplianceHarness(ConfigA);
        var text = File.ReadAllText(harness.ConfigPath);
        var edited = change.StartsWith("workers", StringComparison.Ordinal)
            ? text.Replace("workers: 1", change, StringComparison.Ordinal)
            : change.StartsWith("control", StringComparison.Ordinal)
                ? text[..text.IndexOf("control:", StringComparison.Ordinal)] + change + "\n" + ConfigA
                : text.Replace(ConfigA, change, StringComparison.Ordinal);
        File.WriteAllText(harness.ConfigPath, edited);

        var error = harness.Appliance.Reload();

        Assert.NotNull(error);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Equal(1, harness.Appliance.Version);
    }

    [Fact]
    public void A_reload_with_the_program_in_use_by_a_control_request_frees_the_old_maps_only_after_the_request()
    {
        using var harness = new ApplianceHarness(ConfigA);
        IApplianceControl control = harness.Appliance;
        harness.Write(ConfigB);
        control.Serve(() =>
        {
            var maps = control.Maps;
            Assert.Null(control.Reload());
            // The request still reads the old program's maps after the swap.
            Assert.Equal(2, maps["fw_actions"].Dump().Count(e => e.Value.Any(b => b != 0)));
        });
        Assert.Equal(3, harness.Appliance.Rules().Count);
    }
}
