using XdpGate.Bpf.Maps;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>
/// On reload, the counters of rules that did not change move to the new firewall: a rule is the same when its name,
/// action and match read the same (<see cref="FirewallRuleReport.Describe"/>), wherever it now stands. Duplicates
/// pair up in order.
/// </summary>
public static class CounterCarryOver
{
    /// <returns>How many rules kept their counters.</returns>
    public static int Copy(FirewallPolicy oldPolicy, IReadOnlyDictionary<string, BpfMap> oldMaps, FirewallPolicy newPolicy, IReadOnlyDictionary<string, BpfMap> newMaps)
    {
        ArgumentNullException.ThrowIfNull(oldPolicy);
        ArgumentNullException.ThrowIfNull(oldMaps);
        ArgumentNullException.ThrowIfNull(newPolicy);
        ArgumentNullException.ThrowIfNull(newMaps);
        var from = oldMaps[FirewallMaps.RuleCounts];
        var to = newMaps[FirewallMaps.RuleCounts];
        if (from.UserValueSize != to.UserValueSize)
            throw new ArgumentException($"the firewalls have {from.PossibleCpus} and {to.PossibleCpus} CPU slots; counters cannot move between them");
        var waiting = new Dictionary<string, Queue<int>>();
        for (var i = 0; i < oldPolicy.Rules.Count; i++)
        {
            var identity = Identity(oldPolicy.Rules[i]);
            if (!waiting.TryGetValue(identity, out var queue))
                waiting[identity] = queue = new Queue<int>();
            queue.Enqueue(i);
        }
        var value = new byte[from.UserValueSize];
        var kept = 0;
        for (var i = 0; i < newPolicy.Rules.Count; i++)
        {
            if (!waiting.TryGetValue(Identity(newPolicy.Rules[i]), out var queue) || !queue.TryDequeue(out var old))
                continue;
            if (from.Lookup(BitConverter.GetBytes(old), value) == 0 && to.Update(BitConverter.GetBytes(i), value) == 0)
                kept++;
        }
        return kept;
    }

    internal static string Identity(FirewallRule rule) => $"{rule.Name}\n{rule.Action}\n{FirewallRuleReport.Describe(rule)}";
}
