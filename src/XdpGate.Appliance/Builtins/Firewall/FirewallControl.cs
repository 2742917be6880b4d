using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using XdpGate.Appliance.Control;
using XdpGate.Bpf.Maps;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>One firewall rule as `xdpgate rules` shows it: what it matches, and its counters summed over CPUs.</summary>
public sealed record RuleStatus(int Index, string? Name, string Action, string Match, ulong Packets, ulong Bytes);

/// <summary>
/// The serving firewall's control: its rules with their counters (fw_rule_counts, the `rules` verb) and fw_stats
/// (in `stats`). A reload loads fresh maps, so what earlier programs counted is carried here and added to what this
/// program's maps count: for a rule that is still there (same name, action and match; its position may change;
/// duplicates pair up in order) and for every fw_stats slot. Unlike copying the old counts into the new maps before the
/// swap, this keeps what the old program counted between that moment and the last worker leaving it.
/// </summary>
public sealed class FirewallControl : IBuiltinControl
{
    public const string RulesVerb = "rules";

    private readonly FirewallPolicy policy;
    private readonly IReadOnlyDictionary<string, BpfMap> maps;
    private readonly (ulong Packets, ulong Bytes)[] carriedRules;
    private readonly Dictionary<string, ulong> carriedStats;

    /// <param name="previous">What served before (its maps final), whose counts carry over; null at the first load.</param>
    internal FirewallControl(FirewallPolicy policy, IReadOnlyDictionary<string, BpfMap> maps, IBuiltinControl? previous)
    {
        this.policy = policy;
        this.maps = maps;
        carriedRules = new (ulong, ulong)[policy.Rules.Count];
        carriedStats = [];
        if (previous is not FirewallControl old)
            return;
        var totals = new Dictionary<string, Queue<(ulong, ulong)>>();
        foreach (var rule in old.Rules())
        {
            var key = Identity(old.policy.Rules[rule.Index]);
            if (!totals.TryGetValue(key, out var queue))
                totals[key] = queue = new Queue<(ulong, ulong)>();
            queue.Enqueue((rule.Packets, rule.Bytes));
        }
        for (var i = 0; i < policy.Rules.Count; i++)
        {
            if (totals.TryGetValue(Identity(policy.Rules[i]), out var queue) && queue.TryDequeue(out var counts))
                carriedRules[i] = counts;
        }
        carriedStats = old.Stats().ToDictionary(s => s.Key, s => s.Value);
    }

    public string Builtin => FirewallBuiltin.Name;

    /// <summary>Every rule with what it counted, summed over CPUs, carried counts included.</summary>
    public IReadOnlyList<RuleStatus> Rules()
    {
        var counters = maps[FirewallMaps.RuleCounts];
        return [.. policy.Rules.Select((rule, i) =>
        {
            var (packets, bytes) = Sum(counters, i);
            return new RuleStatus(i, rule.Name, rule.Action.ToString().ToLowerInvariant(), Describe(rule),
                packets + carriedRules[i].Packets, bytes + carriedRules[i].Bytes);
        })];
    }

    /// <summary>fw_stats by name: "firewall.default.packets", "firewall.non_ip.bytes", ..., carried counts included.</summary>
    public IEnumerable<KeyValuePair<string, ulong>> Stats()
    {
        for (var stat = fw_stat.FW_STAT_DEFAULT; stat < fw_stat.FW_STATS; stat++)
        {
            var (packets, bytes) = Sum(maps[FirewallMaps.Stats], (int)stat);
            var name = $"firewall.{stat.ToString()["FW_STAT_".Length..].ToLowerInvariant()}";
            yield return new($"{name}.packets", packets + carriedStats.GetValueOrDefault($"{name}.packets"));
            yield return new($"{name}.bytes", bytes + carriedStats.GetValueOrDefault($"{name}.bytes"));
        }
    }

    public void Answer(string verb, IReadOnlyList<string> args, Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(json);
        if (verb != RulesVerb)
            throw new ControlRequestException($"the firewall has no verb '{verb}' ({RulesVerb})");
        if (args.Count > 0)
            throw new ControlRequestException($"{RulesVerb} takes no arguments");
        JsonSerializer.Serialize(json, Rules().Select(r => new { index = r.Index, name = r.Name, action = r.Action, match = r.Match, packets = r.Packets, bytes = r.Bytes }));
    }

    public IEnumerable<string> Report() => Rules().Select(rule =>
        $"  rule {rule.Index + 1} {rule.Name ?? "(unnamed)"} {rule.Action} [{rule.Match}]: {rule.Packets.ToString("N0", CultureInfo.InvariantCulture)} packets, {rule.Bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes");

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

    private static string Identity(FirewallRule rule) => $"{rule.Name}\n{rule.Action}\n{Describe(rule)}";

    /// <summary>A per-CPU fw_counter summed over the CPUs (each CPU's slot rounded up to 8 bytes, as the kernel lays them out).</summary>
    private static (ulong Packets, ulong Bytes) Sum(BpfMap counters, int index)
    {
        var value = new byte[counters.UserValueSize];
        if (counters.Lookup(BitConverter.GetBytes(index), value) != 0)
            return (0, 0);
        var stride = BpfMap.RoundUp8(Unsafe.SizeOf<fw_counter>());
        ulong packets = 0, bytes = 0;
        for (var slot = 0; slot + stride <= value.Length; slot += stride)
        {
            var counter = MemoryMarshal.Read<fw_counter>(value.AsSpan(slot));
            packets += counter.packets;
            bytes += counter.bytes;
        }
        return (packets, bytes);
    }
}
