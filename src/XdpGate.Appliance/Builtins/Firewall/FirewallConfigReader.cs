using System.Globalization;
using XdpGate.Appliance.Config;
using YamlDotNet.RepresentationModel;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>The 'firewall' section: verdicts, named sets (of prefixes or of ports) and the ordered rules.</summary>
internal static class FirewallConfigReader
{
    private static readonly string[] Keys = ["default", "unparseable", "non_ip", "sets", "rules"];
    private static readonly string[] RuleKeys = ["name", "action", "src", "dst", "protocol", "sport", "dport", "tcp_flags", "ingress", "vlan"];
    private static readonly Dictionary<string, FirewallAction> Verdicts = new() { ["pass"] = FirewallAction.Pass, ["drop"] = FirewallAction.Drop };
    private static readonly Dictionary<string, FirewallAction> Actions = new()
    {
        ["pass"] = FirewallAction.Pass, ["drop"] = FirewallAction.Drop, ["count"] = FirewallAction.Count,
    };
    private static readonly Dictionary<string, int> ProtocolNames = new() { ["icmp"] = 1, ["tcp"] = 6, ["udp"] = 17, ["gre"] = 47, ["esp"] = 50, ["ah"] = 51, ["icmpv6"] = 58, ["sctp"] = 132 };
    private static readonly string[] FlagNames = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"];

    private sealed record NamedSet(List<IpPrefix>? Prefixes, List<KeyRange>? Ports);

    public static FirewallPolicy Read(YamlNodes nodes, YamlNode node, IReadOnlyList<PortConfig> ports)
    {
        var section = nodes.Mapping(node, "'firewall'", Keys);
        if (section is null)
            return new FirewallPolicy([]);
        FirewallAction Verdict(string key, FirewallAction fallback) =>
            section.TryGetValue(key, out var n) ? nodes.Enum(n, $"firewall.{key}", Verdicts) ?? fallback : fallback;
        var defaultAction = Verdict("default", FirewallAction.Pass);
        var unparseable = Verdict("unparseable", FirewallAction.Drop);
        var nonIp = Verdict("non_ip", FirewallAction.Pass);

        var sets = new Dictionary<string, NamedSet>(StringComparer.Ordinal);
        if (section.TryGetValue("sets", out var setsNode))
            ReadSets(nodes, setsNode, sets);

        var rules = new List<FirewallRule>();
        var ruleNodes = new List<YamlNode>();
        if (section.TryGetValue("rules", out var rulesNode))
        {
            if (rulesNode is YamlSequenceNode list)
            {
                foreach (var item in list)
                {
                    if (Rule(nodes, item, rules.Count + 1, sets, ports) is { } rule)
                    {
                        rules.Add(rule);
                        ruleNodes.Add(item);
                    }
                }
            }
            else
            {
                nodes.Diagnostics.Error(rulesNode, "firewall.rules must be a list of rules");
            }
        }
        if (rules.Count > FirewallLayout.FW_MAX_RULES)
            nodes.Diagnostics.Error(rulesNode!, $"{rules.Count} rules; the built-in firewall holds at most {FirewallLayout.FW_MAX_RULES}");
        ShadowCheck.Report(rules, ruleNodes, nodes.Diagnostics);
        return new FirewallPolicy(rules, defaultAction, unparseable, nonIp);
    }

    private static void ReadSets(YamlNodes nodes, YamlNode node, Dictionary<string, NamedSet> sets)
    {
        if (node is not YamlMappingNode mapping)
        {
            nodes.Diagnostics.Error(node, "firewall.sets must map set names to lists of prefixes or ports");
            return;
        }
        foreach (var (keyNode, value) in mapping.Children)
        {
            var name = ((YamlScalarNode)keyNode).Value ?? "";
            var items = nodes.Items(value, $"set '{name}'");
            if (items is null)
                continue;
            var isPrefixSet = items[0] is YamlScalarNode { Value: { } first } && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal));
            sets[name] = isPrefixSet
                ? new NamedSet([.. items.Select(i => Prefix(nodes, i)).OfType<IpPrefix>()], null)
                : new NamedSet(null, [.. items.Select(i => Range(nodes, i, "a port", 0, 65535)).OfType<KeyRange>()]);
        }
    }

    private static FirewallRule? Rule(YamlNodes nodes, YamlNode node, int number, Dictionary<string, NamedSet> sets, IReadOnlyList<PortConfig> ports)
    {
        var rule = nodes.Mapping(node, $"rule {number}", RuleKeys);
        if (rule is null)
            return null;
        var name = rule.TryGetValue("name", out var nameNode) ? nodes.String(nameNode, "a rule name") : null;
        if (!rule.TryGetValue("action", out var actionNode))
        {
            nodes.Diagnostics.Error(node, $"rule {number} needs an 'action' (pass, drop or count)");
            return null;
        }
        var action = nodes.Enum(actionNode, "a rule's action", Actions) ?? FirewallAction.Pass;
        List<T>? Field<T>(string key, Func<YamlNode, IEnumerable<T>> item) where T : struct =>
            rule.TryGetValue(key, out var n) && nodes.Items(n, $"{key} of rule {number}") is { } items ? [.. items.SelectMany(item)] : null;

        return new FirewallRule(
            action,
            Source: Field("src", i => Addresses(nodes, i, sets)),
            Destination: Field("dst", i => Addresses(nodes, i, sets)),
            Protocols: Field("protocol", i => Protocol(nodes, i) is { } p ? [new KeyRange(p, p)] : Array.Empty<KeyRange>()),
            SourcePorts: Field("sport", i => Ports(nodes, i, sets)),
            DestinationPorts: Field("dport", i => Ports(nodes, i, sets)),
            TcpFlags: rule.TryGetValue("tcp_flags", out var flagsNode) ? Flags(nodes, flagsNode) : null,
            Ingress: Field("ingress", i => Ingress(nodes, i, ports)),
            Vlans: Field("vlan", i => Vlan(nodes, i)),
            Name: name);
    }

    private static IEnumerable<IpPrefix> Addresses(YamlNodes nodes, YamlNode node, Dictionary<string, NamedSet> sets)
    {
        var text = (node as YamlScalarNode)?.Value ?? "";
        if (!text.StartsWith('@'))
            return Prefix(nodes, node) is { } prefix ? [prefix] : [];
        if (!sets.TryGetValue(text[1..], out var set))
            nodes.Diagnostics.Error(node, $"no set named '{text[1..]}' (sets: {string.Join(", ", sets.Keys)})");
        else if (set.Prefixes is null)
            nodes.Diagnostics.Error(node, $"set '{text[1..]}' holds ports, not addresses");
        return set?.Prefixes ?? [];
    }

    private static IEnumerable<KeyRange> Ports(YamlNodes nodes, YamlNode node, Dictionary<string, NamedSet> sets)
    {
        var text = (node as YamlScalarNode)?.Value ?? "";
        if (!text.StartsWith('@'))
            return Range(nodes, node, "a port", 0, 65535) is { } range ? [range] : [];
        if (!sets.TryGetValue(text[1..], out var set))
            nodes.Diagnostics.Error(node, $"no set named '{text[1..]}' (sets: {string.Join(", ", sets.Keys)})");
        else if (set.Ports is null)
            nodes.Diagnostics.Error(node, $"set '{text[1..]}' holds addresses, not ports");
        return set?.Ports ?? [];
    }

    private static IpPrefix? Prefix(YamlNodes nodes, YamlNode node)
    {
        if (node is not YamlScalarNode { Value: { } text })
        {
            nodes.Diagnostics.Error(node, "expected an address or prefix");
            return null;
        }
        var prefix = IpPrefix.Parse(text, out var error);
        if (prefix is null)
            nodes.Diagnostics.Error(node, error!);
        return prefix;
    }

    /// <summary>"80" or "1000-2000", inclusive.</summary>
    private static KeyRange? Range(YamlNodes nodes, YamlNode node, string what, int min, int max)
    {
        var text = (node as YamlScalarNode)?.Value ?? "";
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var lowText = dash < 0 ? text : text[..dash];
        var highText = dash < 0 ? text : text[(dash + 1)..];
        if (!int.TryParse(lowText, NumberStyles.None, CultureInfo.InvariantCulture, out var low)
            || !int.TryParse(highText, NumberStyles.None, CultureInfo.InvariantCulture, out var high))
        {
            nodes.Diagnostics.Error(node, $"'{text}' is not {what} or a range LOW-HIGH");
            return null;
        }
        if (low > max || high > max || low < min)
        {
            nodes.Diagnostics.Error(node, $"'{text}': {what} must be {min}..{max}");
            return null;
        }
        if (high < low)
        {
            nodes.Diagnostics.Error(node, $"range '{text}' ends before it starts");
            return null;
        }
        return new KeyRange(low, high);
    }

    private static int? Protocol(YamlNodes nodes, YamlNode node)
    {
        var text = (node as YamlScalarNode)?.Value ?? "";
        if (ProtocolNames.TryGetValue(text, out var number))
            return number;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out number) && number <= 255)
            return number;
        nodes.Diagnostics.Error(node, $"'{text}' is not a protocol ({string.Join(", ", ProtocolNames.Keys)}, or a number 0..255)");
        return null;
    }

    /// <summary>"syn,!ack" or [syn, "!ack"]: named flags that must be set, or clear with '!'.</summary>
    private static TcpFlagMatch? Flags(YamlNodes nodes, YamlNode node)
    {
        var items = nodes.Items(node, "tcp_flags");
        if (items is null)
            return null;
        byte mask = 0, value = 0;
        foreach (var item in items)
        {
            foreach (var part in ((item as YamlScalarNode)?.Value ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                var clear = part.StartsWith('!');
                var bit = Array.IndexOf(FlagNames, clear ? part[1..] : part);
                if (bit < 0)
                {
                    nodes.Diagnostics.Error(item, $"'{part}' is not a TCP flag ({string.Join(", ", FlagNames)}; '!' for clear)");
                    return null;
                }
                mask |= (byte)(1 << bit);
                if (!clear)
                    value |= (byte)(1 << bit);
            }
        }
        return new TcpFlagMatch(mask, value);
    }

    private static IEnumerable<uint> Ingress(YamlNodes nodes, YamlNode node, IReadOnlyList<PortConfig> ports)
    {
        var text = (node as YamlScalarNode)?.Value ?? "";
        var port = ports.FirstOrDefault(p => p.Name == text);
        if (port is null)
        {
            nodes.Diagnostics.Error(node, $"no port named '{text}' (ports: {string.Join(", ", ports.Select(p => p.Name))})");
            return [];
        }
        return [port.Ifindex];
    }

    private static IEnumerable<KeyRange> Vlan(YamlNodes nodes, YamlNode node) =>
        (node as YamlScalarNode)?.Value == "untagged"
            ? [new KeyRange(FirewallLayout.FW_VLAN_NONE, FirewallLayout.FW_VLAN_NONE)]
            : Range(nodes, node, "a VLAN id", 0, 4095) is { } range ? [range] : [];
}
