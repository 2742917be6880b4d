using static XdpGate.Appliance.Builtins.Firewall.FirewallLayout;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>A policy the firewall program cannot hold (too many rules, prefixes or bitmap blocks); the message says which limit.</summary>
public sealed class FirewallCompileException(string message) : BuiltinConfigException(message);

/// <summary>
/// Compiles ordered rules into the firewall's classification maps. For every field, the values are split into the
/// pieces no rule boundary crosses (port ranges, VLAN ranges, protocols, flag bytes, ingress ports, nested prefixes);
/// each piece gets the bitmap of the rules it satisfies, and equal bitmaps share a class.
/// </summary>
public static class RuleCompiler
{
    public static CompiledFirewall Compile(FirewallPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var rules = policy.Rules;
        if (rules.Count > FW_MAX_RULES)
            throw new FirewallCompileException($"{rules.Count} rules; the built-in firewall holds at most {FW_MAX_RULES}");
        foreach (var action in new[] { policy.DefaultAction, policy.UnparseableAction, policy.NonIpAction })
        {
            if (action == FirewallAction.Count)
                throw new FirewallCompileException("the default, unparseable and non-IP actions must be pass or drop");
        }
        var blocks = (rules.Count + FW_BLOCK_RULES - 1) / FW_BLOCK_RULES;
        var classes = new BitmapClasses(blocks * FW_BLOCK_WORDS);

        var active = 1u << (int)fw_dim.FW_DIM_PROTO;
        void Activate(fw_dim dim, Func<FirewallRule, bool> constrains)
        {
            if (rules.Any(constrains))
                active |= 1u << (int)dim;
        }
        Activate(fw_dim.FW_DIM_SRC, r => r.Source is not null);
        Activate(fw_dim.FW_DIM_DST, r => r.Destination is not null);
        Activate(fw_dim.FW_DIM_SPORT, r => r.SourcePorts is not null);
        Activate(fw_dim.FW_DIM_DPORT, r => r.DestinationPorts is not null);
        Activate(fw_dim.FW_DIM_FLAGS, r => r.TcpFlags is not null);
        Activate(fw_dim.FW_DIM_INGRESS, r => r.Ingress is not null);
        Activate(fw_dim.FW_DIM_VLAN, r => r.Vlans is not null);

        var ingressOther = classes.Intern(Wildcards(classes, rules, r => r.Ingress is null));
        var compiled = new CompiledFirewall(policy, blocks, active, ingressOther);
        compiled.Prefixes[FirewallMaps.Src4] = PrefixClasses(classes, rules, false, r => r.Source);
        compiled.Prefixes[FirewallMaps.Dst4] = PrefixClasses(classes, rules, false, r => r.Destination);
        compiled.Prefixes[FirewallMaps.Src6] = PrefixClasses(classes, rules, true, r => r.Source);
        compiled.Prefixes[FirewallMaps.Dst6] = PrefixClasses(classes, rules, true, r => r.Destination);
        compiled.Arrays[FirewallMaps.Proto] = RangeClasses(classes, rules, 256, r => r.Protocols);
        compiled.Arrays[FirewallMaps.SrcPort] = RangeClasses(classes, rules, FW_PORT_NONE + 1, r => r.SourcePorts);
        compiled.Arrays[FirewallMaps.DstPort] = RangeClasses(classes, rules, FW_PORT_NONE + 1, r => r.DestinationPorts);
        compiled.Arrays[FirewallMaps.Flags] = FlagClasses(classes, rules);
        compiled.Arrays[FirewallMaps.Vlan] = RangeClasses(classes, rules, FW_VLAN_NONE + 1, r => r.Vlans);
        IngressClasses(classes, rules, compiled.Ingress);

        compiled.SetBitmaps(classes.Bitmaps);
        if (compiled.Bitmaps.Count > FW_MAX_BITMAP_BLOCKS || compiled.StoredBlocks > FW_MAX_BITMAP_BLOCKS)
            throw new FirewallCompileException($"the rules need {compiled.Bitmaps.Count} distinct bitmaps with {compiled.StoredBlocks} non-empty blocks of {FW_BLOCK_RULES} rules; the built-in firewall holds {FW_MAX_BITMAP_BLOCKS} of each (fewer distinct prefixes or port ranges would fit)");
        compiled.Actions = [.. rules.Select(r => FirewallActions.Stored(r.Action))];
        return compiled;
    }

    private static ulong[] Wildcards(BitmapClasses classes, IReadOnlyList<FirewallRule> rules, Func<FirewallRule, bool> isWildcard)
    {
        var bitmap = classes.NewBitmap();
        for (var i = 0; i < rules.Count; i++)
        {
            if (isWildcard(rules[i]))
                BitmapClasses.Set(bitmap, i);
        }
        return bitmap;
    }

    /// <summary>A sweep over the keys: a rule's bit is on between its range starts and ends (counted, since one rule's ranges may overlap).</summary>
    private static uint[] RangeClasses(BitmapClasses classes, IReadOnlyList<FirewallRule> rules, int keys, Func<FirewallRule, IReadOnlyList<KeyRange>?> field)
    {
        var bitmap = Wildcards(classes, rules, r => field(r) is null);
        var events = new List<(int At, int Rule, int Delta)>();
        for (var i = 0; i < rules.Count; i++)
        {
            foreach (var range in field(rules[i]) ?? [])
            {
                events.Add((range.Low, i, 1));
                events.Add((range.High + 1, i, -1));
            }
        }
        events.Sort((a, b) => a.At.CompareTo(b.At));
        var depth = new int[rules.Count];
        var result = new uint[keys];
        var next = 0;
        for (var key = 0; key < keys;)
        {
            for (; next < events.Count && events[next].At == key; next++)
            {
                var (_, rule, delta) = events[next];
                depth[rule] += delta;
                if (depth[rule] == 0)
                    BitmapClasses.Clear(bitmap, rule);
                else
                    BitmapClasses.Set(bitmap, rule);
            }
            var end = next < events.Count ? Math.Min(events[next].At, keys) : keys;
            Array.Fill(result, classes.Intern(bitmap), key, end - key);
            key = end;
        }
        return result;
    }

    private static uint[] FlagClasses(BitmapClasses classes, IReadOnlyList<FirewallRule> rules)
    {
        var result = new uint[FW_FLAGS_NONE + 1];
        for (var flags = 0; flags <= FW_FLAGS_NONE; flags++)
        {
            var key = flags;
            result[flags] = classes.Intern(Wildcards(classes, rules, r =>
                r.TcpFlags is not { } match || (key != FW_FLAGS_NONE && match.Matches(key))));
        }
        return result;
    }

    private static void IngressClasses(BitmapClasses classes, IReadOnlyList<FirewallRule> rules, Dictionary<uint, uint> result)
    {
        var ifindexes = rules.SelectMany(r => r.Ingress ?? []).Distinct().ToList();
        if (ifindexes.Count > FW_MAX_INGRESS)
            throw new FirewallCompileException($"rules name {ifindexes.Count} ingress ports; the built-in firewall holds {FW_MAX_INGRESS}");
        foreach (var ifindex in ifindexes)
            result[ifindex] = classes.Intern(Wildcards(classes, rules, r => r.Ingress is null || r.Ingress.Contains(ifindex)));
    }

    /// <summary>
    /// Every distinct prefix of one family, with the rules whose prefixes cover it. In (address, length) order a prefix
    /// comes right after the prefixes that cover it, so a stack of covering prefixes walks the implicit trie once.
    /// </summary>
    private static List<(IpPrefix, uint)> PrefixClasses(BitmapClasses classes, IReadOnlyList<FirewallRule> rules, bool isV6,
        Func<FirewallRule, IReadOnlyList<IpPrefix>?> field)
    {
        var owners = new Dictionary<IpPrefix, List<int>> { [new IpPrefix(isV6, 0, 0)] = [] };
        for (var i = 0; i < rules.Count; i++)
        {
            foreach (var prefix in field(rules[i]) ?? [])
            {
                if (prefix.IsV6 != isV6)
                    continue;
                if (!owners.TryGetValue(prefix, out var list))
                    owners[prefix] = list = [];
                list.Add(i);
            }
        }
        if (owners.Count > FW_MAX_PREFIXES)
            throw new FirewallCompileException($"{owners.Count} distinct IPv{(isV6 ? 6 : 4)} prefixes in one direction; the built-in firewall holds {FW_MAX_PREFIXES}");

        var bitmap = Wildcards(classes, rules, r => field(r) is null);
        var depth = new int[rules.Count];
        var stack = new Stack<IpPrefix>();
        var result = new List<(IpPrefix, uint)>(owners.Count);
        foreach (var prefix in owners.Keys.OrderBy(p => p.Address).ThenBy(p => p.Length))
        {
            while (stack.Count > 0 && !stack.Peek().Covers(prefix))
            {
                foreach (var rule in owners[stack.Pop()])
                {
                    if (--depth[rule] == 0)
                        BitmapClasses.Clear(bitmap, rule);
                }
            }
            stack.Push(prefix);
            foreach (var rule in owners[prefix])
            {
                if (depth[rule]++ == 0)
                    BitmapClasses.Set(bitmap, rule);
            }
            result.Add((prefix, classes.Intern(bitmap)));
        }
        return result;
    }
}
