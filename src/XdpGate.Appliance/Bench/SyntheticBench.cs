using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports.Synthetic;
using XdpGate.Appliance.Ports;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Uapi;

namespace XdpGate.Appliance.Bench;

/// <summary>
/// `xdpgate bench --driver synthetic`: each mode's program run by one pinned worker over a synthetic port (frames
/// built in place, no sockets) for the duration; the ceiling one core puts on the dataplane.
/// </summary>
public static class SyntheticBench
{
    public static BenchRow Run(BenchMode mode, ExecutionEngine engine, TimeSpan duration, int frameSize, int pinnedCpu)
    {
        using var counter = new ArrayMap(new MapDefinition("xdpgate_bench", bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1), Math.Max(2, Environment.ProcessorCount));
        // Redirects go to the second port (ifindex 2), which only transmits.
        var program = BpfProgram.Load(BenchPrograms.Instructions(mode, "map_by_idx(0)", 2),
            new ProgramOptions { Name = "xdpgate_bench", Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [counter] });
        var traffic = new SyntheticTraffic { Size = frameSize };
        var options = new PortOptions();
        using var ingress = new SyntheticPort("syn0", 1, traffic, options);
        using var egress = new SyntheticPort("syn1", 2, traffic with { Count = 0 }, options);
        var workers = new WorkerOptions { Engine = engine, Idle = IdleMode.BusyPoll };
        using var pool = new WorkerPool([ingress, egress], program, [pinnedCpu], workers, (port, _) => ((IHostStackPort)port).HostStack(0));
        var before = pool.Snapshot();
        pool.Start();
        Thread.Sleep(duration);
        var after = pool.Snapshot();
        pool.RequestStop();
        pool.Join(TimeSpan.FromSeconds(10));
        var frames = after.Ports[0].Total.RxPackets - before.Ports[0].Total.RxPackets;
        return new BenchRow(mode, $"xdpgate synthetic {(engine == ExecutionEngine.Jit ? "jit" : "interp")}", frames / (after.Time - before.Time).TotalSeconds / 1e6, 0);
    }
}
