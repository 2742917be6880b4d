using System.Runtime.InteropServices;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using Xunit;

namespace XdpGate.Appliance.Tests.Firewall;

/// <summary>The built-in firewall loaded with a policy, run on frames in our engine, with its counters read back.</summary>
internal sealed class FirewallHarness : IDisposable
{
    private readonly LoadedObject loaded;
    private readonly BpfProgram program;
    private readonly BpfVm vm = new(0);
    private readonly PacketBuffer frame = new();
    private readonly ExecutionEngine engine;

    public FirewallHarness(FirewallPolicy policy, ExecutionEngine engine = ExecutionEngine.Jit)
    {
        Policy = policy;
        loaded = FirewallBuiltin.Load(RuleCompiler.Compile(policy), possibleCpus: 1);
        program = loaded.Programs[FirewallMaps.Program];
        this.engine = engine;
        engine.Prepare(program);
    }

    public FirewallPolicy Policy { get; }

    public IReadOnlyDictionary<string, BpfMap> Maps => loaded.Maps;

    public LoadedObject Loaded => loaded;

    public uint Run(byte[] packet, uint ingressIfindex = 1)
    {
        frame.Reset(packet, ingressIfindex);
        var verdict = (uint)engine.RunXdp(vm, program, ref frame.Context);
        Assert.Equal(FaultReason.None, vm.LastFault.Reason);
        return verdict;
    }

    public (ulong Packets, ulong Bytes) RuleCounter(int rule) => Counter(FirewallMaps.RuleCounts, rule);

    public (ulong Packets, ulong Bytes) Stat(fw_stat stat) => Counter(FirewallMaps.Stats, (int)stat);

    private (ulong, ulong) Counter(string map, int index)
    {
        var counter = new fw_counter();
        Assert.Equal(0, loaded.Maps[map].Lookup(BitConverter.GetBytes(index), MemoryMarshal.AsBytes(new Span<fw_counter>(ref counter))));
        return (counter.packets, counter.bytes);
    }

    public void Dispose()
    {
        frame.Dispose();
        vm.Dispose();
        loaded.Dispose();
    }
}
