using XdpGate.Appliance.Builtins.Firewall;
using Xunit;
using static XdpGate.Appliance.Tests.Firewall.FirewallPackets;

namespace XdpGate.Appliance.Tests.Firewall;

public class FirewallControlTests
{
    [Fact]
    public void Unchanged_rules_keep_their_counters_wherever_they_move_and_changed_ones_start_at_zero()
    {
        var ssh = new FirewallRule(FirewallAction.Drop, DestinationPorts: [new KeyRange(22, 22)], Name: "ssh");
        var dns = new FirewallRule(FirewallAction.Count, DestinationPorts: [new KeyRange(53, 53)], Name: "dns");
        using var old = new FirewallHarness(new FirewallPolicy([ssh, dns]));
        old.Run(Ipv4("198.18.0.1", "198.18.0.2", Tcp, destinationPort: 22));
        old.Run(Ipv4("198.18.0.1", "198.18.0.2", Udp, destinationPort: 53));
        old.Run(Ipv4("198.18.0.1", "198.18.0.2", Udp, destinationPort: 53));
        var served = new FirewallConfig(old.Policy).Serve(old.Maps, previous: null);

        var web = new FirewallRule(FirewallAction.Pass, DestinationPorts: [new KeyRange(443, 443)], Name: "web");
        var sshWider = ssh with { DestinationPorts = [new KeyRange(22, 23)] };
        using var fresh = new FirewallHarness(new FirewallPolicy([web, dns with { }, sshWider]));
        var next = Assert.IsType<FirewallControl>(new FirewallConfig(fresh.Policy).Serve(fresh.Maps, served));

        var rules = next.Rules();
        Assert.Equal((0UL, 0UL), (rules[0].Packets, rules[0].Bytes));
        Assert.Equal(old.RuleCounter(1), (rules[1].Packets, rules[1].Bytes));
        Assert.Equal(2UL, rules[1].Packets);
        Assert.Equal((0UL, 0UL), (rules[2].Packets, rules[2].Bytes));
        // Two DNS packets fell through the count rule to the default; fw_stats carry over whatever the rules.
        Assert.Equal(2UL, next.Stats().Single(s => s.Key == "firewall.default.packets").Value);
    }
}
