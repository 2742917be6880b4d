using XdpGate.Bpf.Maps;
using XdpGate.Testing.Kernel;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// A kernel agreement test as one function from a place to run programs to the facts it observed there: the function
/// runs on our engine, and on the running kernel where it can, and <see cref="KernelOracle"/> checks both against the
/// recording under tests/data/kernel.
/// </summary>
internal static class KernelAgreement
{
    /// <summary>Makes a fresh place to run an object with these maps: our engine or the kernel.</summary>
    public delegate IXdpTarget Open(params MapDefinition[] maps);

    /// <param name="record">The recording, relative to tests/data/kernel ("csum-diff.txt").</param>
    /// <param name="title">What the recording holds, in a sentence.</param>
    /// <param name="facts">The facts the test observes, one string each, in a fixed order.</param>
    public static void Check(string record, string title, Func<Open, IEnumerable<string>> facts, string engine = "interp")
    {
        ArgumentNullException.ThrowIfNull(facts);
        var engineFacts = facts(maps => new EngineObject(maps, KernelObject.PossibleCpuCount, engine)).ToList();
        KernelOracle.Check(Path.Combine("kernel", record), title, engineFacts, () => [.. facts(maps => new KernelObject(maps))]);
    }

    /// <summary>A map's contents as one fact, per-CPU slots sorted: only the set of slot values is the same everywhere.</summary>
    public static string Dump(IXdpTarget target, int map)
    {
        ArgumentNullException.ThrowIfNull(target);
        var definition = target.Maps[map];
        var perCpu = definition.Type is bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY or bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH
            or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH;
        var entries = target.Dump(map);
        return $"map {definition.Name}: " + Dumps.Format(perCpu
            ? entries.Select(e => new KeyValuePair<byte[], byte[]>(e.Key, Dumps.SortSlots(e.Value, (int)definition.ValueSize)))
            : entries);
    }
}
