using System.Buffers.Binary;
using System.Text;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Fixtures;
using XdpGate.Uapi;

namespace XdpGate.Testing.Kernel;

/// <summary>
/// An object's maps and programs in the running kernel (needs CAP_BPF): maps made by BPF_MAP_CREATE, programs bound
/// to their fds and loaded by BPF_PROG_LOAD (license GPL, with the object's BTF and func_info as libbpf does), runs
/// by BPF_PROG_TEST_RUN. The kernel side of agreement tests and of the kernel baselines in perf/.
/// </summary>
public sealed class KernelObjectLoad : IObjectSetup, IDisposable
{
    private readonly List<BpfMapFd> maps = [];
    private readonly Dictionary<string, BpfProgFd> programs = new(StringComparer.Ordinal);
    private readonly Dictionary<BpfObject, BpfBtfFd> btfs = [];

    public KernelObjectLoad(IReadOnlyList<MapDefinition> definitions)
    {
        ArgumentNullException.ThrowIfNull(definitions);
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

    public IReadOnlyList<MapDefinition> Maps { get; }

    public BpfMapFd MapFd(int map) => maps[map];

    public BpfProgFd ProgramFd(string name) => programs.TryGetValue(name, out var fd)
        ? fd
        : throw new ArgumentException($"no program '{name}' is loaded; loaded: {string.Join(", ", programs.Keys)}", nameof(name));

    public void Update(int map, byte[] key, byte[] value) => BpfSyscall.MapUpdate(maps[map], key, value);

    public void Freeze(int map) => BpfSyscall.MapFreeze(maps[map]);

    public void Load(string name, bpf_insn[] instructions, bpf_prog_type type = bpf_prog_type.BPF_PROG_TYPE_XDP)
    {
        var bound = KernelRelocation.BindMapFds(instructions, maps.Select(m => m.Fd).ToList());
        programs.Add(name, BpfSyscall.ProgLoad((uint)type, bpf_insn.ToBytes(bound), "GPL", KernelName(name)));
    }

    /// <summary>
    /// Loads a linked program with the object's BTF (loaded once per object) and the program's func_info, which the
    /// kernel needs to verify global subprograms on their own; an object without BTF loads bare.
    /// </summary>
    public void Load(BpfObject obj, ObjectProgram program)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(program);
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
        BinaryPrimitives.WriteInt32LittleEndian(value, ProgramFd(program).Fd);
        BpfSyscall.MapUpdate(maps[map], BitConverter.GetBytes(slot), value);
    }

    /// <summary>
    /// BPF_PROG_TEST_RUN of an XDP program with an xdp_md as ctx_in: its data is the metadata length and data_end the
    /// whole input, which is how test_run takes metadata (it copies data_in from data_meta). With
    /// <paramref name="repeat"/> above 1 the result's duration is the kernel's average ns per run.
    /// </summary>
    public BpfTestRunResult TestRun(string program, byte[] packet, byte[]? metadata = null, int outputSlack = 4096, uint repeat = 1)
    {
        metadata ??= [];
        var input = new byte[metadata.Length + packet.Length];
        metadata.CopyTo(input, 0);
        packet.CopyTo(input, metadata.Length);
        var ctx = new byte[24]; // struct xdp_md
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(0), (uint)metadata.Length); // data: metadata length
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(4), (uint)input.Length);    // data_end
        return BpfSyscall.ProgTestRun(ProgramFd(program), input, input.Length + outputSlack, ctx, ctx.Length, repeat: repeat);
    }

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
