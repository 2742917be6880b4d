using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using XdpGate.Testing.Fixtures;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// The same object in our engine (<see cref="EngineObjectLoad"/>), runs on a VM for CPU 0 with
/// the named engine (see <see cref="Engines"/>).
/// </summary>
internal sealed unsafe class EngineObject : IXdpTarget
{
    private readonly EngineObjectLoad loaded;
    private readonly BpfVm vm = new(processorId: 0);
    private readonly PacketBuffer frame = new();

    private readonly string engine;

    public EngineObject(IReadOnlyList<MapDefinition> definitions, int possibleCpus, string engine = "interp")
    {
        this.engine = engine;
        Maps = definitions;
        loaded = new EngineObjectLoad(definitions, possibleCpus);
    }

    public string Name => "engine";

    public IReadOnlyList<MapDefinition> Maps { get; }

    public void Update(int map, byte[] key, byte[] value) => loaded.Update(map, key, value);

    public void Freeze(int map) => loaded.Freeze(map);

    public void Load(string name, bpf_insn[] instructions, bpf_prog_type type = bpf_prog_type.BPF_PROG_TYPE_XDP) =>
        loaded.Load(name, instructions, type);

    public void Load(BpfObject obj, ObjectProgram program) => loaded.Load(obj, program);

    public void SetTailCall(int map, uint slot, string program) => loaded.SetTailCall(map, slot, program);

    public XdpRun Run(string program, byte[] packet, byte[]? metadata = null)
    {
        metadata ??= [];
        // BPF_PROG_TEST_RUN's rule for metadata passed in: whole words, in the headroom xdp_frame leaves.
        if (metadata.Length % 4 != 0 || metadata.Length > XdpLayout.XDP_PACKET_HEADROOM - XdpLayout.XdpFrameSize)
            throw new ArgumentException($"a test run takes metadata in multiples of 4 bytes up to {XdpLayout.XDP_PACKET_HEADROOM - XdpLayout.XdpFrameSize}, not {metadata.Length}", nameof(metadata));
        frame.Reset(packet);
        // Metadata sits right in front of data, taken from the headroom as the kernel's test run does.
        frame.Context.DataMeta = frame.Context.Data - metadata.Length;
        metadata.CopyTo(new Span<byte>(frame.Context.DataMeta, metadata.Length));
        var verdict = Engines.RunXdp(engine, vm, loaded.Program(program), ref frame.Context);
        var fault = vm.LastFault.Reason == FaultReason.None ? null : vm.LastFault.ToString();
        return new XdpRun((uint)verdict, frame.Context.Metadata.ToArray(), frame.Context.Packet.ToArray(), fault);
    }

    public List<KeyValuePair<byte[], byte[]>> Dump(int map) => Dumps.SortByKey(loaded.Maps[map].Dump());

    public void Dispose()
    {
        loaded.Dispose();
        vm.Dispose();
        frame.Dispose();
    }
}
