using XdpGate.Bpf.Elf;

namespace XdpGate.Appliance.Firewall;

/// <summary>The built-in firewall object (Builtin/firewall.o, embedded): open it, and load it with a compiled policy in its maps.</summary>
public static class BuiltinFirewall
{
    private const string ResourceName = "XdpGate.Appliance.Builtin.firewall.o";

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
