using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using Xunit;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>One object loaded twice, into the kernel and into our engine, so each step runs on both.</summary>
internal sealed class KernelAndEngine : IXdpSetup, IDisposable
{
    public KernelAndEngine(params MapDefinition[] maps)
    {
        KernelObject.Require();
        Kernel = new KernelObject(maps);
        Engine = new EngineObject(maps, KernelObject.PossibleCpuCount);
    }

    public KernelObject Kernel { get; }
    public EngineObject Engine { get; }

    /// <summary>Assembles <paramref name="asm"/> and loads it into both.</summary>
    public void Load(string name, string asm, bpf_prog_type type = bpf_prog_type.BPF_PROG_TYPE_XDP) =>
        Load(name, Assembler.Assemble(asm), type);

    public void Load(string name, bpf_insn[] instructions, bpf_prog_type type = bpf_prog_type.BPF_PROG_TYPE_XDP)
    {
        Kernel.Load(name, instructions, type);
        Engine.Load(name, instructions, type);
    }

    public void Load(BpfObject obj, ObjectProgram program)
    {
        Kernel.Load(obj, program);
        Engine.Load(obj, program);
    }

    public void Update(int map, byte[] key, byte[] value)
    {
        Kernel.Update(map, key, value);
        Engine.Update(map, key, value);
    }

    public void Freeze(int map)
    {
        Kernel.Freeze(map);
        Engine.Freeze(map);
    }

    public void SetTailCall(int map, uint slot, string program)
    {
        Kernel.SetTailCall(map, slot, program);
        Engine.SetTailCall(map, slot, program);
    }

    public (XdpRun Kernel, XdpRun Engine) Run(string program, byte[] packet, byte[]? metadata = null) =>
        (Kernel.Run(program, packet, metadata), Engine.Run(program, packet, metadata));

    /// <summary>Both dumps; per-CPU values with their slots sorted (see <see cref="Dumps.SortSlots"/>).</summary>
    public (string Kernel, string Engine) Dump(int map)
    {
        var definition = Kernel.Maps[map];
        var perCpu = definition.Type is bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY or bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH
            or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH;
        string Format(List<KeyValuePair<byte[], byte[]>> entries) => Dumps.Format(perCpu
            ? entries.Select(e => new KeyValuePair<byte[], byte[]>(e.Key, Dumps.SortSlots(e.Value, (int)definition.ValueSize)))
            : entries);
        return (Format(Kernel.Dump(map)), Format(Engine.Dump(map)));
    }

    public void Dispose()
    {
        Kernel.Dispose();
        Engine.Dispose();
    }
}

/// <summary>How a comparison ends: agreement passes; any difference fails, listing every differing case.</summary>
internal static class Agreement
{
    /// <summary>Compares two tables of facts line by line (kernel first).</summary>
    public static void Compare(string what, IReadOnlyList<string> kernel, IReadOnlyList<string> engine)
    {
        Assert.Equal(kernel.Count, engine.Count);
        var differing = kernel.Zip(engine).Where(pair => pair.First != pair.Second).ToList();
        if (differing.Count == 0)
            return;
        Assert.Fail($"{what}: engine differs from the kernel on {differing.Count} of {kernel.Count} cases:\n"
            + string.Join('\n', differing.Select(pair => $"  kernel: {pair.First}\n  engine: {pair.Second}")));
    }
}
