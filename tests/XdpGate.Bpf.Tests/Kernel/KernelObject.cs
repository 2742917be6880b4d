using System.Buffers.Binary;
using System.Text;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using XdpGate.Linux;
using XdpGate.Linux.Bpf;
using Xunit;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// An object's maps and programs in the running kernel, through bpf(): maps made by BPF_MAP_CREATE, programs bound
/// to their fds and loaded by BPF_PROG_LOAD (license GPL), runs by BPF_PROG_TEST_RUN, dumps by GET_NEXT_KEY + LOOKUP.
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

    private readonly List<BpfMapFd> maps = [];
    private readonly Dictionary<string, BpfProgFd> programs = new(StringComparer.Ordinal);
    private readonly Dictionary<BpfObject, BpfBtfFd> btfs = [];

    public KernelObject(IReadOnlyList<MapDefinition> definitions)
    {
        Maps = definitions;
        try
        {
            foreach (var d in definitions)
                maps.Add(BpfSyscall.MapCreate((uint)d.Type, d.KeySize, d.ValueSize, d.MaxEntries, d.Flags, KernelName(d.Name)));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Why the kernel cannot be used here (reported as the skip reason), or null.</summary>
    public static string? WhyUnavailable => Unavailable.Value;

    private static readonly Lazy<string?> Unavailable = new(BpfSyscall.WhyUnavailable);

    /// <summary>Skips the calling [SkippableFact] when the kernel cannot load programs here, saying why.</summary>
    public static void Require() => Skip.If(Unavailable.Value is not null, $"kernel agreement not checked: {Unavailable.Value}");

    public string Name => "kernel";

    public IReadOnlyList<MapDefinition> Maps { get; }

    public BpfMapFd MapFd(int map) => maps[map];

    public BpfProgFd ProgramFd(string name) => programs[name];

    public void Update(int map, byte[] key, byte[] value) => BpfSyscall.MapUpdate(maps[map], key, value);

    public void Load(string name, bpf_insn[] instructions, bpf_prog_type type = bpf_prog_type.BPF_PROG_TYPE_XDP)
    {
        var bound = KernelRelocation.BindMapFds(instructions, maps.Select(m => m.Fd).ToList());
        programs.Add(name, BpfSyscall.ProgLoad((uint)type, bpf_insn.ToBytes(bound), "GPL", KernelName(name)));
    }

    /// <summary>
    /// Loads a linked program with the object's BTF (loaded once per object) and the program's func_info, as libbpf
    /// does; an object without BTF loads bare.
    /// </summary>
    public void Load(BpfObject obj, ObjectProgram program)
    {
        if (obj.KernelBtf() is not { } blob || program.FuncInfo.Count == 0)
        {
            Load(program.Name, [.. program.Instructions], program.Type);
            return;
        }
        if (!btfs.TryGetValue(obj, out var btf))
            btfs.Add(obj, btf = BpfSyscall.BtfLoad(blob));
        var funcInfo = program.FuncInfo.Select(f => new bpf_func_info { insn_off = (uint)f.InstructionIndex, type_id = f.TypeId }).ToArray();
        var bound = KernelRelocation.BindMapFds([.. program.Instructions], maps.Select(m => m.Fd).ToList());
        programs.Add(program.Name, BpfSyscall.ProgLoad((uint)program.Type, bpf_insn.ToBytes(bound), "GPL", KernelName(program.Name),
            btf: btf, funcInfo: funcInfo));
    }

    /// <summary>A program array's value is the program's fd on update (its id on lookup).</summary>
    public void SetTailCall(int map, uint slot, string program)
    {
        var value = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(value, programs[program].Fd);
        BpfSyscall.MapUpdate(maps[map], BitConverter.GetBytes(slot), value);
    }

    public XdpRun Run(string program, byte[] packet, byte[]? metadata = null)
    {
        var result = TestRun(program, packet, metadata);
        var metaLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(result.CtxOut);
        return new XdpRun(result.Retval, result.DataOut[..metaLength], result.DataOut[metaLength..]);
    }

    /// <summary>The raw BPF_PROG_TEST_RUN result of one run, with an xdp_md in and out.</summary>
    public BpfTestRunResult TestRun(string program, byte[] packet, byte[]? metadata = null)
    {
        metadata ??= [];
        var input = new byte[metadata.Length + packet.Length];
        metadata.CopyTo(input, 0);
        packet.CopyTo(input, metadata.Length);
        var ctx = new byte[24]; // struct xdp_md
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(0), (uint)metadata.Length); // data: metadata length
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(4), (uint)input.Length);    // data_end
        return BpfSyscall.ProgTestRun(programs[program], input, input.Length + OutputSlack, ctx, ctx.Length, repeat: 1);
    }

    public List<KeyValuePair<byte[], byte[]>> Dump(int map) => Dumps.SortByKey(BpfSyscall.MapEntries(maps[map]));

    /// <summary>The kernel takes names of at most 15 letters, digits, '_' and '.'.</summary>
    public static string KernelName(string name)
    {
        var kernel = new StringBuilder();
        foreach (var c in name)
        {
            if (kernel.Length == bpf_defines.BPF_OBJ_NAME_LEN - 1)
                break;
            kernel.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? c : '_');
        }
        return kernel.ToString();
    }

    /// <summary>The possible CPUs, so the engine's per-CPU maps get as many slots as the kernel's.</summary>
    public static int PossibleCpuCount => PossibleCpus.Count;

    public void Dispose()
    {
        foreach (var program in programs.Values)
            program.Dispose();
        programs.Clear();
        foreach (var btf in btfs.Values)
            btf.Dispose();
        btfs.Clear();
        foreach (var map in maps)
            map.Dispose();
        maps.Clear();
    }
}
