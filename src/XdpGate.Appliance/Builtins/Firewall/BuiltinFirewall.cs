using XdpGate.Bpf.Elf;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>The built-in firewall object (firewall.o next to it, embedded): open it, and load it with a compiled policy in its maps.</summary>
public static class BuiltinFirewall
{
    private const string ResourceName = "XdpGate.Appliance.Builtins.Firewall.firewall.o";

    public static BpfObject Open()
    {
        using var stream = typeof(BuiltinFirewall).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the assembly lacks its embedded {ResourceName}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return BpfObject.Open(copy.ToArray());
    }

    /// <summary>New maps and program for <paramref name="compiled"/>; the caller owns (and disposes) the result.</summary>
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
