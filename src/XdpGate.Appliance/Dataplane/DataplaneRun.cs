using System.Diagnostics;
using XdpGate.Appliance.Ports;
using XdpGate.Bpf.Program;

namespace XdpGate.Appliance.Dataplane;

/// <summary>What `xdpgate run` asks for, beyond the ports and the program.</summary>
public sealed record DataplaneRunOptions
{
    public WorkerOptions Workers { get; init; } = new();

    /// <summary>`host`, or the name of the port PASS frames leave by (see <see cref="PassTargets"/>).</summary>
    public string Pass { get; init; } = PassTargets.Host;

    /// <summary>Stop after this long; null runs until cancelled or until every port's traffic ends.</summary>
    public TimeSpan? Duration { get; init; }

    public PortOptions Ports { get; init; } = new();
}

/// <summary>How a run ended: the final counters and how long the workers ran.</summary>
public sealed record RunSummary(StatsSnapshot Stats, TimeSpan Elapsed, IReadOnlyList<Bpf.Execution.Fault> LastFaults);

/// <summary>
/// One run of the appliance: opens every port through its driver, starts the workers, reports once a second
/// while they run, and stops them on cancellation, at the end of the duration, or when all traffic has ended.
/// Disposing closes the ports (and so detaches from the interfaces) whatever happened.
/// </summary>
public sealed class DataplaneRun : IDisposable
{
    private readonly List<IPort> ports = [];
    private readonly WorkerPool pool;
    private readonly DataplaneRunOptions options;

    public DataplaneRun(IPortDriver driver, IReadOnlyList<string> interfaces, BpfProgram program, DataplaneRunOptions options,
        Func<IPort, int, IFrameSink>? hostStack = null)
    {
        ArgumentNullException.ThrowIfNull(driver);
        ArgumentNullException.ThrowIfNull(interfaces);
        ArgumentNullException.ThrowIfNull(options);
        if (interfaces.Count == 0)
            throw new ArgumentException("no port given (--iface)", nameof(interfaces));
        this.options = options;
        try
        {
            var portOptions = options.Ports with { Queues = options.Workers.Workers };
            foreach (var name in interfaces)
                ports.Add(driver.Open(name, portOptions));
            if (ports.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
                throw new ArgumentException($"port '{duplicate.Key}' is given more than once");
            pool = new WorkerPool(ports, program, options.Workers, PassTargets.Resolve(ports, options.Pass, hostStack));
        }
        catch
        {
            foreach (var port in ports)
                port.Dispose();
            throw;
        }
    }

    public IReadOnlyList<IPort> Ports => ports;

    public WorkerPool Pool => pool;

    /// <summary>Runs until <paramref name="cancel"/>, the duration, or the end of all traffic; calls <paramref name="everySecond"/> with each second's counters.</summary>
    public RunSummary Run(CancellationToken cancel, Action<StatsSnapshot, StatsSnapshot>? everySecond = null)
    {
        var clock = Stopwatch.StartNew();
        var previous = pool.Snapshot();
        pool.Start();
        var deadline = options.Duration ?? Timeout.InfiniteTimeSpan;
        while (!pool.Completed && !cancel.IsCancellationRequested)
        {
            var left = deadline == Timeout.InfiniteTimeSpan ? TimeSpan.FromSeconds(1) : deadline - clock.Elapsed;
            if (left <= TimeSpan.Zero)
                break;
            // Wakes at the next second, on cancellation, or (checked by the loop) once the workers finish.
            var step = left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1);
            WaitForStep(step, cancel);
            if (everySecond is not null && !pool.Completed)
            {
                var now = pool.Snapshot();
                everySecond(previous, now);
                previous = now;
            }
        }
        pool.RequestStop();
        if (!pool.Join(TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException("the workers did not stop within 10 seconds of being asked");
        clock.Stop();
        return new RunSummary(pool.Snapshot(), clock.Elapsed, [.. pool.Workers.Select(w => w.Vm.LastFault)]);
    }

    private void WaitForStep(TimeSpan step, CancellationToken cancel)
    {
        var until = Stopwatch.GetTimestamp() + (long)(step.TotalSeconds * Stopwatch.Frequency);
        while (!pool.Completed && !cancel.IsCancellationRequested && Stopwatch.GetTimestamp() < until)
            cancel.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(20));
    }

    public void Dispose()
    {
        pool?.Dispose();
        foreach (var port in ports)
            port.Dispose();
    }
}
