using XdpGate.Appliance.Control;
using XdpGate.Appliance.Firewall;
using XdpGate.Appliance.Tests.Firewall;
using XdpGate.Bpf.Maps;

namespace XdpGate.Appliance.Tests.Control;

/// <summary>
/// The control surface of an appliance running the built-in firewall in our engine (no ports: packets are run
/// directly), as the dataplane will provide it; reload answers with <see cref="ReloadError"/>.
/// </summary>
internal sealed class FirewallAppliance : IApplianceControl, IDisposable
{
    public FirewallAppliance()
    {
        Firewall = new FirewallHarness(new FirewallPolicy(
        [
            new FirewallRule(FirewallAction.Count, Protocols: [new KeyRange(17, 17)], Name: "udp-seen"),
            new FirewallRule(FirewallAction.Drop, DestinationPorts: [new KeyRange(53, 53)], Name: "dns"),
        ]));
        Firewall.Run(FirewallPackets.Ipv4("198.18.0.1", "198.18.0.2", FirewallPackets.Udp, destinationPort: 53));
        Firewall.Run(FirewallPackets.Ipv4("198.18.0.1", "198.18.0.2", FirewallPackets.Udp, destinationPort: 54));
    }

    public FirewallHarness Firewall { get; }

    public string? ReloadError { get; set; }

    public int Reloads { get; private set; }

    public ControlStatus Status() => new("test.yaml", FirewallMaps.Program, 1.5, ["in"], 1);

    public IReadOnlyList<KeyValuePair<string, ulong>> Stats() => FirewallRuleReport.Stats(Maps);

    public IReadOnlyDictionary<string, BpfMap> Maps => Firewall.Maps;

    public IReadOnlyList<RuleStatus> Rules() => FirewallRuleReport.Rules(Firewall.Policy, Maps);

    public string? Reload()
    {
        Reloads++;
        return ReloadError;
    }

    public void Dispose() => Firewall.Dispose();
}
