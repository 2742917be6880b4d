using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using XdpGate.Linux;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// The same object in our engine: maps from MapFactory, programs from BpfProgram.Load, runs on a VM for CPU 0 with
/// the named engine (see <see cref="Engines"/>).
/// </summary>
internal sealed unsafe class EngineObject : IXdpTarget
{
    private readonly BpfMap[] maps;
    private readonly Dictionary<string, BpfProgram> programs = new(StringComparer.Ordinal);
    private readonly BpfVm vm = new(cpu: 0);
    private readonly PacketBuffer frame = new();

    private readonly string engine;

    public EngineObject(IReadOnlyList<MapDefinition> definitions, int possibleCpus, string engine = "interp")
    {
        this.engine = engine;
        Maps = definitions;
        maps = definitions.Select(d => MapFactory.Create(d, possibleCpus)).ToArray();
    }

    public string Name => "engine";

    public IReadOnlyList<MapDefinition> Maps { get; }

    public void Update(int map, byte[] key, byte[] value)
    {
        var result = maps[map].Update(key, value);
        if (result != 0)
            throw new InvalidOperationException($"engine map '{maps[map].Name}': update of key {Convert.ToHexString(key)} failed with {ErrnoText.Name(result)}");
    }

    public void Load(string name, bpf_insn[] instructions, bpf_prog_type type = bpf_prog_type.BPF_PROG_TYPE_XDP) =>
        programs.Add(name, BpfProgram.Load(instructions, new ProgramOptions { Name = name, Type = type, Maps = maps }));

    public void SetTailCall(int map, uint slot, string program)
    {
        var result = ((ProgArrayMap)maps[map]).SetProgram(slot, programs[program]);
        if (result != 0)
            throw new InvalidOperationException($"engine prog array '{maps[map].Name}': slot {slot} refused {program} with {ErrnoText.Name(result)}");
    }

    public XdpRun Run(string program, byte[] packet, byte[]? metadata = null)
    {
        metadata ??= [];
        frame.Reset(packet);
        // Metadata sits right in front of data, taken from the headroom as the kernel's test run does.
        frame.Context.DataMeta = frame.Context.Data - metadata.Length;
        metadata.CopyTo(new Span<byte>(frame.Context.DataMeta, metadata.Length));
        var verdict = Engines.RunXdp(engine, vm, programs[program], ref frame.Context);
        var fault = vm.LastFault.Reason == FaultReason.None ? null : vm.LastFault.ToString();
        return new XdpRun((uint)verdict, frame.Context.Metadata.ToArray(), frame.Context.Packet.ToArray(), fault);
    }

    public List<KeyValuePair<byte[], byte[]>> Dump(int map) => Dumps.SortByKey(maps[map].Dump());

    public void Dispose()
    {
        foreach (var map in maps)
            map.Dispose();
        vm.Dispose();
        frame.Dispose();
    }
}
