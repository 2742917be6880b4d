namespace XdpGate.Appliance.Dataplane;

/// <summary>One port's counters at one moment, per queue (queue w is worker w's).</summary>
public sealed record PortStats(string Name, int Ifindex, IReadOnlyList<CounterSnapshot> Queues)
{
    public CounterSnapshot Total => CounterSnapshot.Sum(Queues);
}

/// <summary>Every counter of a run at one moment: per port and queue, with per-worker and overall sums.</summary>
public sealed record StatsSnapshot(DateTime Time, IReadOnlyList<PortStats> Ports)
{
    /// <summary>Worker w's counters: its queue of every port.</summary>
    public CounterSnapshot Worker(int index) => CounterSnapshot.Sum(Ports.Select(p => p.Queues[index]));

    public int WorkerCount => Ports.Count == 0 ? 0 : Ports[0].Queues.Count;

    public CounterSnapshot Total => CounterSnapshot.Sum(Ports.Select(p => p.Total));
}

/// <summary>How a run ended: the final counters, how long the workers ran, and each worker's last fault.</summary>
public sealed record RunSummary(StatsSnapshot Stats, TimeSpan Elapsed, IReadOnlyList<Bpf.Execution.Fault> LastFaults);
