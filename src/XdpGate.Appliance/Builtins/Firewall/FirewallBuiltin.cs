using XdpGate.Appliance.Config;
using XdpGate.Bpf.Elf;
using YamlDotNet.RepresentationModel;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>
/// The built-in firewall: firewall.c, compiled to firewall.o next to it and embedded in the appliance. A config runs
/// it with <c>program: {builtin: firewall}</c> and writes its rules in the <c>firewall</c> section
/// (<see cref="FirewallConfigReader"/>); each build compiles them into its maps (<see cref="FirewallConfig"/>); the
/// control socket's <c>rules</c> shows them with their counters (<see cref="FirewallControl"/>).
/// </summary>
public sealed class FirewallBuiltin : IBuiltin
{
    public const string Name = "firewall";
    private const string ResourceName = "XdpGate.Appliance.Builtins.Firewall.firewall.o";

    private FirewallBuiltin()
    {
    }

    internal static FirewallBuiltin Instance { get; } = new();

    string IBuiltin.Name => Name;

    IReadOnlyList<string> IBuiltin.Verbs { get; } = [FirewallControl.RulesVerb];

    IBuiltinConfig IBuiltin.Read(YamlNodes nodes, YamlNode? section, IReadOnlyList<PortConfig> ports) =>
        new FirewallConfig(section is null ? new FirewallPolicy([]) : FirewallConfigReader.Read(nodes, section, ports));

    /// <summary>The embedded firewall.o.</summary>
    public static BpfObject Open()
    {
        using var stream = typeof(FirewallBuiltin).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the assembly lacks its embedded {ResourceName}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return BpfObject.Open(copy.ToArray());
    }

    /// <summary>New maps and program holding <paramref name="compiled"/>, for tests and benchmarks; the caller owns (and disposes) the result.</summary>
    public static LoadedObject Load(CompiledFirewall compiled, int possibleCpus)
    {
        var loaded = Open().Load(possibleCpus);
        try
        {
            FirewallMapWriter.Write(compiled, loaded.Maps);
            return loaded;
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }
}
