using XdpGate.Appliance.Ports;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Linux.Threading;

namespace XdpGate.Appliance.Dataplane;

/// <summary>How a worker waits when its queues are idle.</summary>
public enum IdleMode
{
    /// <summary>Keep polling the rings (lowest latency; the core stays busy).</summary>
    BusyPoll,
    /// <summary>Sleep in poll() on the queues' descriptors until frames arrive (in-memory queues never wait).</summary>
    Wait,
}

/// <summary>
/// One worker: a thread (pinned to one OS CPU when asked) that owns one queue of every port and a VM whose processor
/// id (the CPU number its programs see, and so their per-CPU map slot) is the worker's index. Each pass takes a batch from every queue, runs the program on each frame in place and carries
/// out the verdict (<see cref="Worker.Dispatch"/>), hands the batch back to its queue, then flushes every sink it
/// used. Nothing on that path allocates or locks.
/// </summary>
/// <remarks>
/// The frame path, per frame: the queue writes the frame's buffer fields into this worker's xdp_buff for it (a slot
/// of the port's batch array, whose ingress ifindex and queue were written once, here); the program's entry point,
/// bound to this worker's VM once per published plan, runs on that xdp_buff where it lies; the verdict sets what the
/// queue does with the frame. So between the worker's loop and the program's first instruction there is the entry
/// (inlined) and the JIT's driver, one call, and no lookup, argument check or copy of the context.
/// </remarks>
public sealed unsafe partial class Worker : IDisposable
{
    /// <summary>How long a waiting worker sleeps in poll() before it looks at the stop request again.</summary>
    public const int WaitTimeoutMilliseconds = 100;

    /// <summary>How long a waiting worker sleeps while a sink still holds frames the kernel did not take.</summary>
    public const int RetryFlushMilliseconds = 1;

    /// <summary>Host frames forwarded per port per pass: the host's traffic is light, and must not starve the wire's.</summary>
    public const int HostEgressPerPass = 8;

    private readonly ProgramSlot slot;
    private readonly BpfVm vm;
    private readonly WorkerPort[] ports;
    private readonly IFrameSink[] sinks;
    // One batch of xdp_buffs per port, pinned: the program runs on them in place, by address.
    private readonly PortFrame[][] batches;
    private readonly IdleMode idle;
    private readonly byte[] hostFrame = new byte[Bpf.Xdp.XdpLayout.FrameSize];
    private readonly bool hasHostEgress;
    private int passes;
    private long planVersion;
    private ProgramPlan bound;
    private ProgramEntry entry;

    /// <summary>A worker that runs <paramref name="program"/> with <paramref name="options"/>' engine.</summary>
    public Worker(int index, BpfProgram program, IReadOnlyList<WorkerPort> ports, WorkerOptions? options = null)
        : this(index, new ProgramSlot(new ProgramPlan(program, (options ?? WorkerOptions.Default).Engine, 1)), ports, options)
    {
    }

    /// <summary>A worker that runs whatever plan <paramref name="slot"/> holds at the start of each batch.</summary>
    public Worker(int index, ProgramSlot slot, IReadOnlyList<WorkerPort> ports, WorkerOptions? options = null, int? pinnedCpu = null)
    {
        options ??= WorkerOptions.Default;
        ArgumentNullException.ThrowIfNull(slot);
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        if (ports.Count == 0)
            throw new ArgumentException("a worker needs at least one port", nameof(ports));
        Index = index;
        PinnedCpu = pinnedCpu;
        this.slot = slot;
        idle = options.Idle;
        vm = new BpfVm(index);
        // Bound here, so the first batch does not pay for it (the JIT's code for this processor id, if the plan did not bring it).
        bound = slot.Current;
        entry = bound.Bind(vm);
        this.ports = [.. ports];
        // Every queue is flushed each pass (it may have received, or been sent to); pass sinks that are not
        // queues (TAP devices, capture files) too, each once.
        sinks = [.. ports.Select(p => (IFrameSink)p.Queue).Concat(ports.Select(p => p.Pass).OfType<IFrameSink>()).Distinct()];
        batches = [.. ports.Select(p => Batch(p, options.BatchSize))];
        hasHostEgress = ports.Any(p => p.HostEgress is not null);
    }

    // The receive queue's part of each xdp_buff (the kernel's xdp_rxq_info): the same for every frame of the port.
    private static PortFrame[] Batch(WorkerPort port, int size)
    {
        var batch = GC.AllocateArray<PortFrame>(size, pinned: true);
        foreach (ref var frame in batch.AsSpan())
        {
            frame.Xdp.IngressIfindex = port.Ifindex;
            frame.Xdp.RxQueueIndex = port.QueueIndex;
        }
        return batch;
    }

    /// <summary>The worker's index: its queue of every port and its VM's processor id (so its per-CPU map slot).</summary>
    public int Index { get; }

    /// <summary>The OS CPU the thread is pinned to, or null when the scheduler places it.</summary>
    public int? PinnedCpu { get; }

    /// <summary>The VM's fault counters and last fault, for reports.</summary>
    public BpfVm Vm => vm;

    /// <summary>The ports as this worker sees them, in port order.</summary>
    public IReadOnlyList<WorkerPort> Ports => ports;

    /// <summary>
    /// The version of the plan this worker's current (or last) batch runs; <see cref="long.MaxValue"/> once it has
    /// stopped. Once it is at least a published plan's version, no batch of this worker uses an older plan again.
    /// </summary>
    public long PlanVersion => Volatile.Read(ref planVersion);

    /// <summary>Set by <see cref="Run"/>: true once every queue of the worker is exhausted.</summary>
    public bool Finished { get; private set; }

    /// <summary>One pass over every queue: receive a batch, run, dispatch; then flush every sink. Returns frames received.</summary>
    public int Poll()
    {
        // One plan for the whole batch: read once, and reported only after the previous batch is done with the old one.
        var plan = slot.Current;
        if (plan != bound)
        {
            // A publication: its entry point is resolved once, here, between batches.
            entry = plan.Bind(vm);
            bound = plan;
        }
        Volatile.Write(ref planVersion, plan.Version);
        var total = 0;
        for (var p = 0; p < ports.Length; p++)
            total += RunBatch(ports[p], batches[p]);
        // A read per pass would be a syscall per batch at full load; the host's trickle can wait a few passes.
        if (hasHostEgress && (total == 0 || (++passes & 63) == 0))
            total += ForwardHostEgress();
        for (var s = 0; s < sinks.Length; s++)
            sinks[s].Flush();
        return total;
    }

    /// <summary>Sends what the host stack queued on the ports' TAPs out of the ports, a bounded number per pass.</summary>
    private int ForwardHostEgress()
    {
        var total = 0;
        foreach (var port in ports)
        {
            if (port.HostEgress is not { } source)
                continue;
            for (var i = 0; i < HostEgressPerPass; i++)
            {
                var length = source.Read(hostFrame);
                if (length <= 0)
                    break;
                var status = port.Queue.TransmitCopy(hostFrame.AsSpan(0, length));
                if (status == TxStatus.Sent)
                    port.Counters.CountSent(length);
                else
                    port.Counters.CountError(status);
                total++;
            }
        }
        return total;
    }

    /// <summary>Polls until <paramref name="stop"/> is requested or every queue is exhausted; call on the worker's own thread.</summary>
    public void Run(CancellationToken stop)
    {
        try
        {
            RunUntilStopped(stop);
        }
        finally
        {
            // A stopped worker reads no plan again: none it ever read can still be in use.
            Volatile.Write(ref planVersion, long.MaxValue);
        }
    }

    private void RunUntilStopped(CancellationToken stop)
    {
        if (PinnedCpu is { } cpu)
            CpuAffinity.PinCurrentThread(cpu);
        var waiter = idle == IdleMode.Wait
            ? new PollSet(ports.Select(p => p.Queue.PollDescriptor).Concat(ports.Select(p => p.HostEgress?.PollDescriptor ?? -1)))
            : null;
        if (waiter is { IsEmpty: true })
            waiter = null;
        while (!stop.IsCancellationRequested)
        {
            if (Poll() > 0)
                continue;
            if (AllExhausted())
            {
                Finished = true;
                return;
            }
            if (waiter is not null)
                waiter.Wait(HasUnsentFrames() ? RetryFlushMilliseconds : WaitTimeoutMilliseconds);
        }
    }

    private bool HasUnsentFrames()
    {
        foreach (var sink in sinks)
        {
            if (sink.HasUnsentFrames)
                return true;
        }
        return false;
    }

    private bool AllExhausted()
    {
        foreach (var port in ports)
        {
            if (!port.Queue.Exhausted)
                return false;
        }
        return true;
    }

    public void Dispose() => vm.Dispose();
}
