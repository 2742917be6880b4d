using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Maps;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>The <c>firewall</c> section of a config, read: its policy, compiled into the firewall's maps at each build.</summary>
public sealed class FirewallConfig(FirewallPolicy policy) : IBuiltinConfig
{
    public FirewallPolicy Policy { get; } = policy ?? throw new ArgumentNullException(nameof(policy));

    public string Builtin => FirewallBuiltin.Name;

    public string Program => FirewallMaps.Program;

    public IReadOnlyList<KeyValuePair<string, string>> Settings =>
    [
        new("rules", Policy.Rules.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("default", Name(Policy.DefaultAction)),
        new("unparseable", Name(Policy.UnparseableAction)),
        new("non_ip", Name(Policy.NonIpAction)),
    ];

    public BpfObject Open() => FirewallBuiltin.Open();

    public IReadOnlyDictionary<string, int> WriteMaps(IReadOnlyDictionary<string, BpfMap> maps)
    {
        var compiled = RuleCompiler.Compile(Policy);
        FirewallMapWriter.Write(compiled, maps);
        return compiled.EntriesPerMap().ToDictionary(p => p.Map, p => p.Entries);
    }

    public IBuiltinControl Serve(IReadOnlyDictionary<string, BpfMap> maps, IBuiltinControl? previous) => new FirewallControl(Policy, maps, previous);

    private static string Name(FirewallAction action) => action.ToString().ToLowerInvariant();
}
