using XdpGate.Appliance.Control;
using XdpGate.Appliance.Service;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>
/// Firewall counters that earlier configs counted and the running one's maps do not hold: a reload loads fresh maps,
/// so what the old maps counted for a rule that is still there (<see cref="CounterCarryOver.Identity"/>: same name,
/// action and match; its position may change) is kept here and added to what the new maps count. fw_stats
/// (default, non_ip, ...) always carry over. Unlike writing the old counts into the new maps before the swap, this
/// also keeps what the old program counted between that moment and the last worker leaving it.
/// </summary>
public sealed class CarriedCounters
{
    private readonly (ulong Packets, ulong Bytes)[] rules;
    private readonly Dictionary<string, ulong> stats;

    private CarriedCounters((ulong, ulong)[] rules, Dictionary<string, ulong> stats)
    {
        this.rules = rules;
        this.stats = stats;
    }

    /// <summary>Nothing carried: a first load, or a program that is not the firewall.</summary>
    public static CarriedCounters None(BuiltProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return new(new (ulong, ulong)[program.IsFirewall ? program.Config.Firewall.Rules.Count : 0], []);
    }

    /// <summary>The rules of <paramref name="program"/> with these counters added, summed over CPUs.</summary>
    public IReadOnlyList<RuleStatus> Rules(BuiltProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (!program.IsFirewall)
            return [];
        return [.. FirewallRuleReport.Rules(program.Config.Firewall, program.Loaded.Maps)
            .Select(r => r with { Packets = r.Packets + rules[r.Index].Packets, Bytes = r.Bytes + rules[r.Index].Bytes })];
    }

    /// <summary>fw_stats by name with these counters added.</summary>
    public IReadOnlyList<KeyValuePair<string, ulong>> Stats(BuiltProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (!program.IsFirewall)
            return [];
        return [.. FirewallRuleReport.Stats(program.Loaded.Maps)
            .Select(s => new KeyValuePair<string, ulong>(s.Key, s.Value + stats.GetValueOrDefault(s.Key)))];
    }

    /// <summary>
    /// What <paramref name="next"/> carries from <paramref name="old"/> (with these counters): call once no worker
    /// runs the old program any more, so its maps hold their final counts. Identical rules are paired in order.
    /// </summary>
    public CarriedCounters Carry(BuiltProgram old, BuiltProgram next)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(next);
        if (!next.IsFirewall)
            return None(next);
        var totals = new Dictionary<string, Queue<(ulong, ulong)>>();
        var oldRules = Rules(old);
        for (var i = 0; i < oldRules.Count; i++)
        {
            var key = CounterCarryOver.Identity(old.Config.Firewall.Rules[i]);
            if (!totals.TryGetValue(key, out var queue))
                totals[key] = queue = new Queue<(ulong, ulong)>();
            queue.Enqueue((oldRules[i].Packets, oldRules[i].Bytes));
        }
        var carried = next.Config.Firewall.Rules
            .Select(rule => totals.TryGetValue(CounterCarryOver.Identity(rule), out var queue) && queue.Count > 0 ? queue.Dequeue() : (0UL, 0UL))
            .ToArray();
        return new(carried, Stats(old).ToDictionary(s => s.Key, s => s.Value));
    }
}
