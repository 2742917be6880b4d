using System.Security.Cryptography;
using System.Text;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// Verdicts of programs already accepted in this process. A verdict depends only on the instructions, the program
/// type, the level, which subprograms are global and their prototypes, the definitions of the maps the instructions
/// name, and whether read-only maps are frozen and, if so, their contents (the verifier reads those as constants); so
/// a reload that rebuilds the same program over fresh maps of the same shape (the firewall on every rule change) need
/// not pay for verification again. Refusals are not kept: they are cheap to find again and carry program-specific text.
/// </summary>
internal static class VerificationCache
{
    private const int Capacity = 64;
    private static readonly Dictionary<string, VerificationResult> Accepted = new(StringComparer.Ordinal);
    private static readonly Queue<string> Order = new();

    public static string Key(BpfProgram program, VerificationLevel level)
    {
        var text = new StringBuilder();
        text.Append(program.Type).Append('|').Append(level).Append('|');
        text.Append(Convert.ToHexString(SHA256.HashData(bpf_insn.ToBytes([.. program.Instructions]))));
        // Global functions are verified apart from their callers: the same code verifies differently as static.
        foreach (var function in program.GlobalFunctions)
            text.Append('|').Append(function);
        // Map operands are map_by_idx indexes into this list (or fds, which differ per load and so never match).
        foreach (var map in program.Maps)
        {
            text.Append('|').Append(map.Definition);
            if ((map.Definition.Flags & MapFlags.BPF_F_RDONLY_PROG) != 0 && map.IsFrozen)
                text.Append(" frozen ").Append(ContentsHash(map));
        }
        return text.ToString();
    }

    /// <summary>Every value of a frozen map, hashed in iteration order (frozen maps no longer change).</summary>
    private static string ContentsHash(BpfMap map)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, value) in map.Dump())
        {
            hash.AppendData(key);
            hash.AppendData(value);
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    public static VerificationResult? Find(string key)
    {
        lock (Accepted)
            return Accepted.GetValueOrDefault(key);
    }

    public static void Add(string key, VerificationResult result)
    {
        lock (Accepted)
        {
            if (!Accepted.TryAdd(key, result))
                return;
            Order.Enqueue(key);
            if (Order.Count > Capacity)
                Accepted.Remove(Order.Dequeue());
        }
    }
}
