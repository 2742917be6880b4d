using XdpGate.Appliance.Builtins.Firewall;

namespace XdpGate.Appliance.Builtins;

/// <summary>The built-ins a config may name, by name.</summary>
internal static class BuiltinRegistry
{
    public static IReadOnlyList<IBuiltin> All { get; } = [FirewallBuiltin.Instance];

    /// <summary>What a config without a program section runs.</summary>
    public static IBuiltin Default => FirewallBuiltin.Instance;

    public static IBuiltin? Find(string name) => All.FirstOrDefault(b => b.Name == name);

    public static string Names => string.Join(", ", All.Select(b => b.Name));
}
