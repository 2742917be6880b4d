using XdpGate.Appliance.Ports;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;

namespace XdpGate.Appliance.Dataplane;

/// <summary>
/// The workers of one run over a set of ports: builds one <see cref="Worker"/> per index with queue w of every
/// port, runs each on its own thread, and gives readers counter snapshots while they run.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private readonly Worker[] workers;
    private readonly Thread[] threads;
    private readonly CancellationTokenSource stop = new();
    private readonly Exception?[] failures;

    /// <param name="cpus">One per worker: the OS CPU it is pinned to when <see cref="WorkerOptions.Pin"/>.</param>
    /// <param name="passTarget">Where PASS frames of a port's queue go for a worker (its queue of the peer port, a TAP device...), or null.</param>
    public WorkerPool(IReadOnlyList<IPort> ports, BpfProgram program, IReadOnlyList<int> cpus, WorkerOptions options, Func<IPort, int, IFrameSink?> passTarget)
        : this(ports, new ProgramSlot(new ProgramPlan(program, options?.Engine ?? ExecutionEngine.Jit, 1, cpus?.Count ?? 1)), cpus!, options!, passTarget)
    {
    }

    /// <summary>Workers that run whatever plan <paramref name="slot"/> holds, taken afresh at every batch (a reload publishes a new one).</summary>
    public WorkerPool(IReadOnlyList<IPort> ports, ProgramSlot slot, IReadOnlyList<int> cpus, WorkerOptions options, Func<IPort, int, IFrameSink?> passTarget)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(slot);
        ArgumentNullException.ThrowIfNull(cpus);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(passTarget);
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus.Count, 1);
        var count = cpus.Count;
        foreach (var port in ports)
        {
            if (port.Queues.Count != count)
                throw new ArgumentException($"port '{port.Name}' has {port.Queues.Count} queue(s); {count} workers need one each", nameof(ports));
        }
        Ports = ports;
        Counters = [.. ports.Select(_ => Enumerable.Range(0, count).Select(_ => new QueueCounters()).ToArray())];
        workers = new Worker[count];
        for (var w = 0; w < count; w++)
        {
            var index = w;
            var views = ports.Select((port, p) =>
            {
                var pass = passTarget(port, index);
                // Worker 0 alone reads what the host sends through a port's TAP, so each TAP has one reader.
                var egress = index == 0 && pass is IFrameSource source and not IPortQueue ? source : null;
                return new WorkerPort(port, index, pass, Counters[p][index]) { HostEgress = egress };
            }).ToArray();
            workers[w] = new Worker(w, slot, views, options, options.Pin ? cpus[w] : null);
        }
        failures = new Exception?[count];
        threads = [.. workers.Select(worker => new Thread(() => RunWorker(worker)) { Name = $"xdpgate worker {worker.Index}", IsBackground = true })];
    }

    public IReadOnlyList<IPort> Ports { get; }

    public IReadOnlyList<Worker> Workers => workers;

    /// <summary>Counters by port, then by queue (= worker).</summary>
    public QueueCounters[][] Counters { get; }

    /// <summary>True once every worker has stopped (all queues exhausted, or a stop was requested and seen).</summary>
    public bool Completed => threads.All(t => !t.IsAlive);

    public void Start()
    {
        foreach (var thread in threads)
            thread.Start();
    }

    /// <summary>Asks every worker to stop after its current pass.</summary>
    public void RequestStop() => stop.Cancel();

    /// <summary>Waits for the workers to stop; rethrows the first worker's failure (a pinning error, a port fault).</summary>
    public bool Join(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var thread in threads)
        {
            var left = deadline - DateTime.UtcNow;
            if (!thread.Join(left < TimeSpan.Zero ? TimeSpan.Zero : left))
                return false;
        }
        if (failures.FirstOrDefault(f => f is not null) is { } failure)
            throw new InvalidOperationException($"a worker failed: {failure.Message}", failure);
        return true;
    }

    /// <summary>
    /// Waits until no worker can still be in a batch that started before plan <paramref name="version"/> was
    /// published: each has begun a batch with it (or a later one), or has stopped. Then the older plans' maps
    /// may be freed. False when <paramref name="timeout"/> passed first (a worker stuck in a batch).
    /// </summary>
    public bool WaitForPlan(long version, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var worker in workers)
        {
            // A worker whose thread never started runs no batch; one that has started reports a version soon.
            while (worker.PlanVersion < version && threads[worker.Index].ThreadState != ThreadState.Unstarted)
            {
                if (DateTime.UtcNow > deadline)
                    return false;
                Thread.Sleep(1);
            }
        }
        return true;
    }

    /// <summary>Every counter now, with each queue's kernel ring statistics.</summary>
    public StatsSnapshot Snapshot() => new(
        DateTime.UtcNow,
        [.. Ports.Select((port, p) => new PortStats(port.Name, port.Ifindex,
            [.. Counters[p].Select((c, q) => c.Snapshot(port.Queues[q].ReadRingStatistics()))]))]);

    private void RunWorker(Worker worker)
    {
        try
        {
            worker.Run(stop.Token);
        }
        catch (Exception e)
        {
            // A worker thread is a boundary: whatever stopped it is reported by Join instead of ending the process.
            failures[worker.Index] = e;
        }
    }

    public void Dispose()
    {
        RequestStop();
        foreach (var thread in threads.Where(t => t.IsAlive))
            thread.Join();
        foreach (var worker in workers)
            worker.Dispose();
        stop.Dispose();
    }
}
