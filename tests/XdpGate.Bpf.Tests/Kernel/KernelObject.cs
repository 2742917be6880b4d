using System.Buffers.Binary;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using XdpGate.Linux;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Kernel;
using Xunit;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// An object's maps and programs in the running kernel (<see cref="KernelObjectLoad"/>) as a test target: runs by
/// BPF_PROG_TEST_RUN split into metadata and packet, dumps by GET_NEXT_KEY + LOOKUP. A map type or a helper the
/// running kernel does not offer is a <see cref="KernelFeatureMissingException"/>, probed before asking for it.
/// </summary>
/// <remarks>
/// Every run passes an xdp_md as ctx_in: its data is the metadata length and data_end the whole input, which is how
/// test_run takes metadata (it copies data_in from data_meta); ctx_out then gives back where data starts. The
/// kernel's data_out runs from data_meta to data_end, so metadata and packet are split there.
/// </remarks>
internal sealed class KernelObject : IXdpTarget
{
    /// <summary>Room past the input packet for data_out: adjust_tail and adjust_head may grow it.</summary>
    public const int OutputSlack = 4096;

    private readonly KernelObjectLoad loaded;

    public KernelObject(IReadOnlyList<MapDefinition> definitions)
    {
        if ((KernelFeatures.WhyUnavailable ?? KernelFeatures.WhyLacking(definitions)) is { } lacking)
            throw new KernelFeatureMissingException(lacking);
        loaded = new KernelObjectLoad(definitions);
    }

    /// <summary>Skips the calling [SkippableFact] when the kernel cannot load programs here, saying why.</summary>
    public static void Require() => Skip.If(KernelFeatures.WhyUnavailable is not null, $"kernel not asked: {KernelFeatures.WhyUnavailable}");

    public string Name => "kernel";

    public IReadOnlyList<MapDefinition> Maps => loaded.Maps;

    public BpfMapFd MapFd(int map) => loaded.MapFd(map);

    public BpfProgFd ProgramFd(string name) => loaded.ProgramFd(name);

    public void Update(int map, byte[] key, byte[] value) => loaded.Update(map, key, value);

    public void Freeze(int map) => loaded.Freeze(map);

    public void Load(string name, bpf_insn[] instructions, bpf_prog_type type = bpf_prog_type.BPF_PROG_TYPE_XDP)
    {
        RequireHelpers(type, instructions);
        loaded.Load(name, instructions, type);
    }

    public void Load(BpfObject obj, ObjectProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        RequireHelpers(program.Type, program.Instructions);
        loaded.Load(obj, program);
    }

    private static void RequireHelpers(bpf_prog_type type, IEnumerable<bpf_insn> instructions)
    {
        if (KernelFeatures.WhyLacking(type, instructions) is { } lacking)
            throw new KernelFeatureMissingException(lacking);
    }

    public void SetTailCall(int map, uint slot, string program) => loaded.SetTailCall(map, slot, program);

    public XdpRun Run(string program, byte[] packet, byte[]? metadata = null)
    {
        var result = TestRun(program, packet, metadata);
        var metaLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(result.CtxOut);
        return new XdpRun(result.Retval, result.DataOut[..metaLength], result.DataOut[metaLength..]);
    }

    /// <summary>The raw BPF_PROG_TEST_RUN result of one run, with an xdp_md in and out.</summary>
    public BpfTestRunResult TestRun(string program, byte[] packet, byte[]? metadata = null) =>
        loaded.TestRun(program, packet, metadata, OutputSlack);

    public List<KeyValuePair<byte[], byte[]>> Dump(int map) => Dumps.SortByKey(BpfSyscall.MapEntries(loaded.MapFd(map)));

    public static string KernelName(string name) => KernelObjectLoad.KernelName(name);

    /// <summary>The possible CPUs, so the engine's per-CPU maps get as many slots as the kernel's.</summary>
    public static int PossibleCpuCount => PossibleCpus.Count;

    public void Dispose() => loaded.Dispose();
}
