namespace XdpGate.Appliance.Firewall;

/// <summary>
/// On reload, the counters of rules that did not change carry over to the new firewall (see
/// <see cref="Service.CarriedCounters"/>): a rule is the same when its name, action and match read the same
/// (<see cref="FirewallRuleReport.Describe"/>), wherever it now stands.
/// </summary>
public static class CounterCarryOver
{
    internal static string Identity(FirewallRule rule) => $"{rule.Name}\n{rule.Action}\n{FirewallRuleReport.Describe(rule)}";
}
