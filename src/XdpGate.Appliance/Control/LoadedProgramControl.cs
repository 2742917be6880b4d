using System.Diagnostics;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Appliance.Config;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Maps;

namespace XdpGate.Appliance.Control;

/// <summary>
/// <see cref="IApplianceControl"/> over a config and its loaded program: maps and firewall rules come from the
/// loaded object; counters of the data path, and reloading, from the callbacks the appliance supplies. A reload
/// that succeeds calls <see cref="Replace"/> with the new config and object.
/// </summary>
public sealed class LoadedProgramControl(AppConfig config, LoadedObject loaded, Func<string?> reload,
    Func<IReadOnlyList<KeyValuePair<string, ulong>>>? dataPathStats = null) : IApplianceControl
{
    private readonly Stopwatch uptime = Stopwatch.StartNew();
    private volatile State state = new(config, loaded);

    private sealed record State(AppConfig Config, LoadedObject Loaded);

    public void Replace(AppConfig newConfig, LoadedObject newLoaded) => state = new State(newConfig, newLoaded);

    public ControlStatus Status()
    {
        var (current, objects) = state;
        var program = current.Program.IsBuiltinFirewall ? FirewallMaps.Program : current.Program.Name ?? objects.Object.Programs[0].Name;
        return new ControlStatus(current.Path, program, uptime.Elapsed.TotalSeconds, [.. current.Ports.Select(p => p.Name)], current.Workers.Cpus.Count);
    }

    public IReadOnlyList<KeyValuePair<string, ulong>> Stats()
    {
        var current = state;
        var firewall = current.Config.Program.IsBuiltinFirewall ? FirewallRuleReport.Stats(current.Loaded.Maps) : [];
        return [.. dataPathStats?.Invoke() ?? [], .. firewall];
    }

    public IReadOnlyDictionary<string, BpfMap> Maps => state.Loaded.Maps;

    public IReadOnlyList<RuleStatus> Rules()
    {
        var current = state;
        return current.Config.Program.IsBuiltinFirewall ? FirewallRuleReport.Rules(current.Config.Firewall, current.Loaded.Maps) : [];
    }

    public string? Reload() => reload();
}
