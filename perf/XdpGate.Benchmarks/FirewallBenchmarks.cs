using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using XdpGate.Appliance.Firewall;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Benchmarks;

/// <summary>
/// ns per packet of the built-in firewall (JIT) against the rule count. Rule i drops (even i) or passes TCP from
/// 198.18.x.y/32 (the i-th address) to port 1000 + i % 1000. "no rule matches" walks every bitmap block, the worst
/// case; "the last rule matches" finds its rule in the last block.
/// </summary>
[MemoryDiagnoser]
public class FirewallBenchmarks
{
    private LoadedObject loaded = null!;
    private BpfProgram program = null!;
    private BpfVm vm = null!;
    private PacketBuffer miss = null!;
    private PacketBuffer last = null!;

    [Params(10, 1000, 10000)]
    public int Rules { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rules = Enumerable.Range(0, Rules).Select(i => new FirewallRule(
            i % 2 == 0 ? FirewallAction.Drop : FirewallAction.Pass,
            Source: [new IpPrefix(false, Source(i), 32)],
            Protocols: [new KeyRange(6, 6)],
            DestinationPorts: [new KeyRange(1000 + i % 1000, 1000 + i % 1000)])).ToList();
        loaded = BuiltinFirewall.Load(RuleCompiler.Compile(new FirewallPolicy(rules)), possibleCpus: 1);
        program = loaded.Programs[FirewallMaps.Program];
        ExecutionEngine.Jit.Prepare(program);
        vm = new BpfVm();
        miss = Frame(Source(Rules), 80);
        last = Frame(Source(Rules - 1), 1000 + (Rules - 1) % 1000);
    }

    private static uint Source(int i) => 0xc6120000u + (uint)i;

    private static PacketBuffer Frame(uint source, int port)
    {
        var frame = new byte[14 + 20 + 20];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
        frame[14] = 0x45;
        frame[14 + 9] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(14 + 12), source);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(14 + 16), 0xc6130001);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(34), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(36), (ushort)port);
        frame[34 + 12] = 0x50;
        frame[34 + 13] = 0x02;
        var buffer = new PacketBuffer();
        buffer.Reset(frame);
        return buffer;
    }

    [Benchmark(Description = "no rule matches: default verdict (ns/packet)")]
    public xdp_action NoMatch() => ExecutionEngine.Jit.RunXdp(vm, program, ref miss.Context);

    [Benchmark(Description = "the last rule matches (ns/packet)")]
    public xdp_action LastRule() => ExecutionEngine.Jit.RunXdp(vm, program, ref last.Context);

    [GlobalCleanup]
    public void Cleanup()
    {
        vm.Dispose();
        miss.Dispose();
        last.Dispose();
        loaded.Dispose();
    }
}
