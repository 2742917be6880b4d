using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>What a matching rule does: end with an XDP verdict, or count the packet and go on to the next rule.</summary>
public enum FirewallAction
{
    Pass,
    Drop,
    Count,
}

/// <summary>How firewall.c stores an action (in fw_actions and fw_config): the XDP verdict it ends with, or FW_ACTION_COUNT.</summary>
public static class FirewallActions
{
    public static uint Stored(FirewallAction action) => action switch
    {
        FirewallAction.Pass => (uint)xdp_action.XDP_PASS,
        FirewallAction.Drop => (uint)xdp_action.XDP_DROP,
        FirewallAction.Count => FirewallLayout.FW_ACTION_COUNT,
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "not a firewall action"),
    };
}

/// <summary>An inclusive range of keys: ports 0..65535, VLAN ids 0..4095 (4096 standing for "untagged"), protocols.</summary>
public readonly record struct KeyRange(int Low, int High)
{
    public bool Contains(int key) => key >= Low && key <= High;

    public bool Covers(KeyRange other) => other.Low >= Low && other.High <= High;

    public override string ToString() => Low == High ? Low.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Low}-{High}";
}

/// <summary>TCP flags that must be set and clear: a packet matches when (flags &amp; Mask) == Value.</summary>
public readonly record struct TcpFlagMatch(byte Mask, byte Value)
{
    public bool Matches(int flags) => (flags & Mask) == Value;
}

/// <summary>
/// One firewall rule. A null field matches everything; a list matches when any element does. A rule with addresses
/// matches only packets of the families it names (a rule with only IPv4 sources never matches IPv6). A rule with ports
/// matches only TCP and UDP; a rule with TCP flags only TCP. <see cref="Ingress"/> holds interface indexes.
/// </summary>
public sealed record FirewallRule(
    FirewallAction Action,
    IReadOnlyList<IpPrefix>? Source = null,
    IReadOnlyList<IpPrefix>? Destination = null,
    IReadOnlyList<KeyRange>? Protocols = null,
    IReadOnlyList<KeyRange>? SourcePorts = null,
    IReadOnlyList<KeyRange>? DestinationPorts = null,
    TcpFlagMatch? TcpFlags = null,
    IReadOnlyList<uint>? Ingress = null,
    IReadOnlyList<KeyRange>? Vlans = null,
    string? Name = null);

/// <summary>The whole rule set with the verdicts for packets that do not meet a terminal rule or do not reach the rules.</summary>
public sealed record FirewallPolicy(
    IReadOnlyList<FirewallRule> Rules,
    FirewallAction DefaultAction = FirewallAction.Pass,
    FirewallAction UnparseableAction = FirewallAction.Drop,
    FirewallAction NonIpAction = FirewallAction.Pass);
