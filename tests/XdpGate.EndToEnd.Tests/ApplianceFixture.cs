using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Drivers;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.AfPacket;
using XdpGate.Appliance.Ports.AfXdp;
using XdpGate.Bpf.Program;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Net;

namespace XdpGate.EndToEnd.Tests;

/// <summary>
/// The appliance running in the DUT namespace of an <see cref="InlineTopology"/> on both ports, with one worker,
/// until disposed (bounded: at most a minute). Ports and TAP devices are made inside the DUT namespace.
/// </summary>
internal sealed class ApplianceFixture : IDisposable
{
    private readonly TapHostStacks taps = new();
    private readonly DataplaneRun run;
    private readonly CancellationTokenSource stop = new();
    private readonly Task<RunSummary> running;

    public ApplianceFixture(InlineTopology topology, string driver, BpfProgram program, string pass = PassTargets.Host)
    {
        IPortDriver ports = driver == "afxdp" ? new AfXdpDriver() : new AfPacketDriver();
        var options = new DataplaneRunOptions
        {
            Workers = new WorkerOptions { Idle = IdleMode.Wait },
            Pass = pass,
            Duration = TimeSpan.FromMinutes(1),
            Ports = new PortOptions { RingSize = 512 },
        };
        run = topology.InDut(() => new DataplaneRun(ports, [topology.West, topology.East], program, options, taps.For));
        running = Task.Run(() => run.Run(stop.Token));
    }

    public static string? WhyUnavailable() => VethPair.WhyUnavailable() ?? BpfSyscall.WhyUnavailable();

    /// <summary>The counters now, while the workers run.</summary>
    public StatsSnapshot Snapshot() => run.Pool.Snapshot();

    /// <summary>Stops the workers and returns the final counters.</summary>
    public RunSummary Stop()
    {
        stop.Cancel();
        return running.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        stop.Cancel();
        try
        {
            running.GetAwaiter().GetResult();
        }
        finally
        {
            run.Dispose();
            taps.Dispose();
            stop.Dispose();
        }
    }
}
