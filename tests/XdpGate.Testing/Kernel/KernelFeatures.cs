using System.Collections.Concurrent;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Linux.Bpf;
using XdpGate.Uapi;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Testing.Kernel;

/// <summary>
/// What the running kernel offers, probed the way libbpf's <c>libbpf_probe_bpf_helper</c> and
/// <c>libbpf_probe_bpf_map_type</c> do, so a kernel test can tell "this kernel lacks the feature" (skip, saying so)
/// from "this kernel disagrees" (a difference). Each answer is probed once per process.
/// </summary>
public static class KernelFeatures
{
    private static readonly Lazy<string?> Unavailable = new(BpfSyscall.WhyUnavailable);
    private static readonly ConcurrentDictionary<(bpf_prog_type, int), string?> Helpers = new();
    private static readonly ConcurrentDictionary<bpf_map_type, string?> MapTypes = new();

    /// <summary>Why bpf() cannot be used here at all (not root, no syscall), or null.</summary>
    public static string? WhyUnavailable => Unavailable.Value;

    /// <summary>
    /// Why the kernel cannot load a program of <paramref name="type"/> calling the helpers that
    /// <paramref name="instructions"/> call, or null when it offers every one of them.
    /// </summary>
    public static string? WhyLacking(bpf_prog_type type, IEnumerable<bpf_insn> instructions)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        foreach (var helper in HelpersCalled(instructions))
        {
            if (WhyLackingHelper(type, helper) is { } reason)
                return reason;
        }
        return null;
    }

    /// <summary>Why the kernel cannot create maps of these types, or null when it offers every one.</summary>
    public static string? WhyLacking(IEnumerable<MapDefinition> maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        foreach (var type in maps.Select(m => m.Type).Distinct())
        {
            if (WhyLackingMapType(type) is { } reason)
                return reason;
        }
        return null;
    }

    /// <summary>
    /// The helper ids a program calls (plain calls; BPF-to-BPF and kfunc calls are not helpers, nor is the poison of an
    /// unresolved CO-RE relocation, which the verifier prunes as dead code or refuses).
    /// </summary>
    public static IEnumerable<int> HelpersCalled(IEnumerable<bpf_insn> instructions) =>
        instructions.Where(i => i.code == (BPF_JMP | BPF_CALL) && i.src_reg == 0 && i.imm != ProgramOptions.CorePoisonHelper).Select(i => i.imm).Distinct().Order();

    /// <summary>
    /// A program that only calls the helper, loaded with a log: the verifier names a helper it does not know ("invalid
    /// func", "unknown func") or does not give this program type ("cannot use helper") before anything else; any other
    /// refusal (the probe's arguments are wrong for the helper) means it is offered.
    /// </summary>
    public static string? WhyLackingHelper(bpf_prog_type type, int helper) => Helpers.GetOrAdd((type, helper), key =>
    {
        if (WhyUnavailable is { } unavailable)
            return unavailable;
        bpf_insn[] probe = [new(BPF_JMP | BPF_CALL, 0, 0, 0, key.Item2), new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)];
        try
        {
            using var loaded = BpfSyscall.ProgLoad((uint)key.Item1, bpf_insn.ToBytes(probe), "GPL", "probe", logLevel: BpfSyscall.BPF_LOG_LEVEL1);
            return null;
        }
        catch (BpfSyscallException e) when (e.Command == bpf_cmd.BPF_PROG_LOAD)
        {
            var line = e.VerifierLog.Split('\n').FirstOrDefault(l =>
                l.Contains("invalid func ", StringComparison.Ordinal) || l.Contains("unknown func ", StringComparison.Ordinal)
                || l.Contains("cannot use helper", StringComparison.Ordinal));
            return line is null ? null : $"Linux {KernelRelease.Current} does not offer helper #{key.Item2} to {key.Item1} programs (\"{line.Trim()}\")";
        }
    });

    /// <summary>A map of the type with sizes any kernel that has the type takes; EINVAL or EOPNOTSUPP means it lacks it.</summary>
    public static string? WhyLackingMapType(bpf_map_type type) => MapTypes.GetOrAdd(type, t =>
    {
        if (WhyUnavailable is { } unavailable)
            return unavailable;
        var (key, value, entries, flags) = t switch
        {
            bpf_map_type.BPF_MAP_TYPE_LPM_TRIE => (8u, 4u, 1u, MapFlags.BPF_F_NO_PREALLOC),
            bpf_map_type.BPF_MAP_TYPE_RINGBUF => (0u, 0u, (uint)Environment.SystemPageSize, 0u),
            bpf_map_type.BPF_MAP_TYPE_QUEUE or bpf_map_type.BPF_MAP_TYPE_STACK => (0u, 4u, 1u, 0u),
            _ => (4u, 4u, 1u, 0u),
        };
        try
        {
            using var map = BpfSyscall.MapCreate((uint)t, key, value, entries, flags, "probe");
            return null;
        }
        catch (BpfSyscallException e) when (e.Errno is 22 or 95)
        {
            return $"Linux {KernelRelease.Current} does not offer {t} ({e.Message})";
        }
    });
}
