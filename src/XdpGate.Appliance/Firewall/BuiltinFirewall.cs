using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Verifier;

namespace XdpGate.Appliance.Firewall;

/// <summary>The built-in firewall object (Builtin/firewall.o, embedded): open it, and load it with a compiled policy in its maps.</summary>
public static class BuiltinFirewall
{
    private const string ResourceName = "XdpGate.Appliance.Builtin.firewall.o";

    /// <summary>
    /// How the built-in firewall is verified: not at all, for now. The kernel verifies it as root (218k instructions
    /// processed, KernelFirewall and its tests load it there); our verifier's pruning lacks the kernel's dynamic precision
    /// tracking and runs past its 1M-instruction budget on its unrolled rule scan, so this one shipped, kernel-checked
    /// object is the exception until it does. Every other program (user objects, `prog` commands) is verified.
    /// </summary>
    public const VerificationLevel Verification = VerificationLevel.None;

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
        var loaded = Open().Load(possibleCpus, verification: Verification);
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
