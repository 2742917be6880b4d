using System.Runtime.InteropServices;
using XdpGate.Appliance.Control;
using XdpGate.Bpf.Maps;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>The rules of a loaded firewall with their counters (fw_rule_counts and fw_stats summed over CPUs), for `xdpgate rules` and stats.</summary>
public static class FirewallRuleReport
{
    public static IReadOnlyList<RuleStatus> Rules(FirewallPolicy policy, IReadOnlyDictionary<string, BpfMap> maps)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(maps);
        var counters = maps[FirewallMaps.RuleCounts];
        return [.. policy.Rules.Select((rule, i) =>
        {
            var (packets, bytes) = Sum(counters, i);
            return new RuleStatus(i, rule.Name, rule.Action.ToString().ToLowerInvariant(), Describe(rule), packets, bytes);
        })];
    }

    /// <summary>fw_stats by name: "default", "non_ip", "truncated", "bad_header", "bad_ext_chain", "fragment", packets and bytes each.</summary>
    public static IReadOnlyList<KeyValuePair<string, ulong>> Stats(IReadOnlyDictionary<string, BpfMap> maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        var result = new List<KeyValuePair<string, ulong>>();
        for (var stat = fw_stat.FW_STAT_DEFAULT; stat < fw_stat.FW_STATS; stat++)
        {
            var (packets, bytes) = Sum(maps[FirewallMaps.Stats], (int)stat);
            var name = stat.ToString()["FW_STAT_".Length..].ToLowerInvariant();
            result.Add(new($"firewall.{name}.packets", packets));
            result.Add(new($"firewall.{name}.bytes", bytes));
        }
        return result;
    }

    /// <summary>A rule's match in the config's own words: "src 198.18.0.0/15 protocol 6 dport 22".</summary>
    public static string Describe(FirewallRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var parts = new List<string>();
        void Add<T>(string key, IReadOnlyList<T>? values)
        {
            if (values is not null)
                parts.Add($"{key} {string.Join(",", values.Select(v => v is KeyRange { Low: FirewallLayout.FW_VLAN_NONE } ? "untagged" : v!.ToString()))}");
        }
        Add("src", rule.Source);
        Add("dst", rule.Destination);
        Add("protocol", rule.Protocols);
        Add("sport", rule.SourcePorts);
        Add("dport", rule.DestinationPorts);
        if (rule.TcpFlags is { } flags)
            parts.Add($"tcp_flags mask 0x{flags.Mask:x2} value 0x{flags.Value:x2}");
        Add("ingress", rule.Ingress);
        Add("vlan", rule.Vlans);
        return parts.Count == 0 ? "any" : string.Join(" ", parts);
    }

    private static (ulong Packets, ulong Bytes) Sum(BpfMap counters, int index)
    {
        var value = new byte[counters.UserValueSize];
        if (counters.Lookup(BitConverter.GetBytes(index), value) != 0)
            return (0, 0);
        var words = MemoryMarshal.Cast<byte, ulong>(value);
        ulong packets = 0, bytes = 0;
        for (var i = 0; i + 1 < words.Length; i += BpfMap.RoundUp8(FirewallLayout.CounterSize) / 8)
        {
            packets += words[i];
            bytes += words[i + 1];
        }
        return (packets, bytes);
    }
}
