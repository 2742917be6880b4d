using XdpGate.Appliance.Builtins.Firewall;

namespace XdpGate.Appliance.Tests.Firewall;

/// <summary>What the firewall does with one packet: the verdict, the rules that counted it, and the fw_stats slot it fell into.</summary>
internal sealed record FirewallDecision(uint Verdict, IReadOnlyList<int> CountedRules, fw_stat? Stat);

/// <summary>
/// The firewall's meaning, written as plainly as possible: parse, then walk the rules in order. The compiled program
/// must agree with it on every packet (the randomized tests hold them to that).
/// </summary>
internal static class ReferenceFirewall
{
    public static FirewallDecision Evaluate(FirewallPolicy policy, ReadOnlySpan<byte> frame, uint ingressIfindex)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var packet = PacketFields.Parse(frame);
        if (packet.Problem is { } problem)
        {
            var action = problem == fw_stat.FW_STAT_NON_IP ? policy.NonIpAction : policy.UnparseableAction;
            return new FirewallDecision(Verdict(action), [], problem);
        }
        var counted = new List<int>();
        for (var i = 0; i < policy.Rules.Count; i++)
        {
            var rule = policy.Rules[i];
            if (!Matches(rule, packet, ingressIfindex))
                continue;
            counted.Add(i);
            if (rule.Action != FirewallAction.Count)
                return new FirewallDecision(Verdict(rule.Action), counted, null);
        }
        return new FirewallDecision(Verdict(policy.DefaultAction), counted, fw_stat.FW_STAT_DEFAULT);
    }

    public static bool Matches(FirewallRule rule, in PacketFields packet, uint ingressIfindex)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return AddressMatches(rule.Source, packet.IsV6, packet.Source)
            && AddressMatches(rule.Destination, packet.IsV6, packet.Destination)
            && KeyMatches(rule.Protocols, packet.Protocol)
            && KeyMatches(rule.SourcePorts, packet.SourcePort)
            && KeyMatches(rule.DestinationPorts, packet.DestinationPort)
            && (rule.TcpFlags is not { } flags || (packet.TcpFlags != FirewallLayout.FW_FLAGS_NONE && flags.Matches(packet.TcpFlags)))
            && (rule.Ingress is null || rule.Ingress.Contains(ingressIfindex))
            && KeyMatches(rule.Vlans, packet.Vlan);
    }

    /// <summary>The XDP verdict of a terminal action (count never ends a walk, so it has none).</summary>
    public static uint Verdict(FirewallAction action) => action switch
    {
        FirewallAction.Pass => 2,
        FirewallAction.Drop => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "only pass and drop end a packet's walk"),
    };

    private static bool AddressMatches(IReadOnlyList<IpPrefix>? prefixes, bool isV6, UInt128 address) =>
        prefixes is null || prefixes.Any(p => p.Contains(isV6, address));

    private static bool KeyMatches(IReadOnlyList<KeyRange>? ranges, int key) =>
        ranges is null || ranges.Any(r => r.Contains(key));
}
