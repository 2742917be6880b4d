using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Testing.Fixtures;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// One place to run an object (its maps and programs): the running kernel (<see cref="KernelObject"/>) or our engine
/// (<see cref="EngineObject"/>). Maps are referred to by their index in the object's map list, as
/// <c>lddw map_by_idx</c> does; programs by name.
/// </summary>
internal interface IXdpTarget : IXdpSetup, IDisposable
{
    /// <summary>"kernel" or "engine", for messages.</summary>
    string Name { get; }

    IReadOnlyList<MapDefinition> Maps { get; }

    /// <summary>Runs an XDP program once on a copy of <paramref name="packet"/>, with <paramref name="metadata"/> in front of it.</summary>
    XdpRun Run(string program, byte[] packet, byte[]? metadata = null);

    /// <summary>Every element of a map, sorted by key.</summary>
    List<KeyValuePair<byte[], byte[]>> Dump(int map);
}

/// <summary>An <see cref="IObjectSetup"/> that also loads bare instruction lists.</summary>
internal interface IXdpSetup : IObjectSetup
{
    /// <summary>Loads a program whose lddw pseudo instructions index the object's maps.</summary>
    void Load(string name, bpf_insn[] instructions, bpf_prog_type type = bpf_prog_type.BPF_PROG_TYPE_XDP);
}

/// <summary>What one run gave: r0 (as BPF_PROG_TEST_RUN's u32 retval), the metadata and packet after the run, and any engine fault.</summary>
internal sealed record XdpRun(uint Retval, byte[] Metadata, byte[] Packet, string? Fault = null)
{
    public override string ToString() =>
        $"retval {Retval} (0x{Retval:x}), metadata {Metadata.Length} bytes, packet {Packet.Length} bytes{(Fault is null ? "" : $", fault {Fault}")}";
}

internal static class Dumps
{
    /// <summary>
    /// A per-CPU value with its slots sorted: the kernel's test run uses whatever CPU the thread is on and our VM uses
    /// CPU 0, so only the set of slot values can be compared.
    /// </summary>
    public static byte[] SortSlots(byte[] value, int valueSize)
    {
        var slot = BpfMap.RoundUp8(valueSize);
        var slots = value.Chunk(slot).OrderBy(s => Convert.ToHexString(s), StringComparer.Ordinal);
        return slots.SelectMany(s => s).ToArray();
    }

    public static List<KeyValuePair<byte[], byte[]>> SortByKey(IEnumerable<KeyValuePair<byte[], byte[]>> entries) =>
        entries.OrderBy(e => Convert.ToHexString(e.Key), StringComparer.Ordinal).ToList();

    public static string Format(IEnumerable<KeyValuePair<byte[], byte[]>> entries) =>
        string.Join("; ", entries.Select(e => $"{Convert.ToHexString(e.Key)}={Convert.ToHexString(e.Value)}"));
}

internal static class XdpSetupExtensions
{
    /// <summary>Assembles <paramref name="asm"/> and loads it.</summary>
    public static void Load(this IXdpSetup target, string name, string asm, bpf_prog_type type = bpf_prog_type.BPF_PROG_TYPE_XDP)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Load(name, Assembler.Assemble(asm), type);
    }
}
