using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.Control;
using XdpGate.Appliance.Tests.Firewall;
using XdpGate.Bpf.Maps;

namespace XdpGate.Appliance.Tests.Control;

/// <summary>
/// The control surface of an appliance running the built-in firewall in our engine (no ports: two UDP packets are
/// run directly), through <see cref="LoadedProgramControl"/>; reload answers with <see cref="ReloadError"/>.
/// </summary>
internal sealed class FirewallAppliance : IApplianceControl, IDisposable
{
    private readonly FirewallHarness firewall;
    private readonly LoadedProgramControl control;

    public FirewallAppliance()
    {
        var policy = new FirewallPolicy(
        [
            new FirewallRule(FirewallAction.Count, Protocols: [new KeyRange(17, 17)], Name: "udp-seen"),
            new FirewallRule(FirewallAction.Drop, DestinationPorts: [new KeyRange(53, 53)], Name: "dns"),
        ]);
        firewall = new FirewallHarness(policy);
        firewall.Run(FirewallPackets.Ipv4("198.18.0.1", "198.18.0.2", FirewallPackets.Udp, destinationPort: 53));
        firewall.Run(FirewallPackets.Ipv4("198.18.0.1", "198.18.0.2", FirewallPackets.Udp, destinationPort: 54));
        var config = new AppConfig("test.yaml", [new PortConfig("in", PortDriver.Synthetic, null, null, 1, PortConfig.HostPass)],
            WorkersConfig.Default, ProgramConfig.Default, policy, ControlConfig.Default, LoggingConfig.Default);
        control = new LoadedProgramControl(config, firewall.Loaded, () =>
        {
            Reloads++;
            return ReloadError;
        });
    }

    public string? ReloadError { get; set; }

    public int Reloads { get; private set; }

    public ControlStatus Status() => control.Status();

    public IReadOnlyList<KeyValuePair<string, ulong>> Stats() => control.Stats();

    public IReadOnlyDictionary<string, BpfMap> Maps => control.Maps;

    public IReadOnlyList<RuleStatus> Rules() => control.Rules();

    public string? Reload() => control.Reload();

    public void Dispose() => firewall.Dispose();
}
