using XdpGate.Appliance.Config;
using YamlDotNet.RepresentationModel;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>
/// Warns about rules that can never match because one earlier pass or drop rule matches every packet they do. Only
/// single earlier rules are considered (a rule covered by two together goes unreported), so a warning is never wrong.
/// </summary>
internal static class ShadowCheck
{
    /// <summary>Lists longer than this are not compared element by element (sets of many thousands of prefixes).</summary>
    private const int MaxCompared = 64;

    public static void Report(IReadOnlyList<FirewallRule> rules, IReadOnlyList<YamlNode> nodes, ConfigDiagnostics diagnostics)
    {
        for (var later = 1; later < rules.Count; later++)
        {
            for (var earlier = 0; earlier < later; earlier++)
            {
                if (rules[earlier].Action == FirewallAction.Count || !Covers(rules[earlier], rules[later]))
                    continue;
                diagnostics.Warning(nodes[later], $"rule {Describe(rules[later], later)} can never match: rule {Describe(rules[earlier], earlier)} before it matches every packet it would");
                break;
            }
        }
    }

    private static string Describe(FirewallRule rule, int index) => rule.Name is null ? $"{index + 1}" : $"{index + 1} ('{rule.Name}')";

    public static bool Covers(FirewallRule a, FirewallRule b) =>
        Covers(a.Source, b.Source, (x, y) => x.Covers(y))
        && Covers(a.Destination, b.Destination, (x, y) => x.Covers(y))
        && Covers(a.Protocols, b.Protocols, (x, y) => x.Covers(y))
        && Covers(a.SourcePorts, b.SourcePorts, (x, y) => x.Covers(y))
        && Covers(a.DestinationPorts, b.DestinationPorts, (x, y) => x.Covers(y))
        && (a.TcpFlags is not { } af || (b.TcpFlags is { } bf && (af.Mask & bf.Mask) == af.Mask && (bf.Value & af.Mask) == af.Value))
        && Covers(a.Ingress, b.Ingress, (x, y) => x == y)
        && Covers(a.Vlans, b.Vlans, (x, y) => x.Covers(y));

    /// <summary>Every element of <paramref name="inner"/> lies within one element of <paramref name="outer"/>; null is "anything".</summary>
    private static bool Covers<T>(IReadOnlyList<T>? outer, IReadOnlyList<T>? inner, Func<T, T, bool> covers) =>
        outer is null
        || (inner is not null && outer.Count <= MaxCompared && inner.Count <= MaxCompared && inner.All(i => outer.Any(o => covers(o, i))));
}
