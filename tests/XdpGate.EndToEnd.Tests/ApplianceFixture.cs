using XdpGate.Appliance.Config;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Service;
using XdpGate.Bpf.Program;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Net;

namespace XdpGate.EndToEnd.Tests;

/// <summary>
/// The appliance running in the DUT namespace of an <see cref="InlineTopology"/> on both ports, with one worker,
/// until disposed (bounded: at most a minute): the config `run --iface WEST --iface EAST --pass PASS` makes, with
/// <paramref name="program"/> as its program. Ports and TAP devices are made inside the DUT namespace.
/// </summary>
internal sealed class ApplianceFixture : IDisposable
{
    private readonly TapHostStacks taps = new();
    private readonly RunningAppliance appliance;
    private readonly CancellationTokenSource stop = new();
    private readonly Task<RunSummary> running;

    public ApplianceFixture(InlineTopology topology, string driver, BpfProgram program, string pass = PortConfig.HostPass)
    {
        // /sys/class/net shows the test's own namespace, not the DUT's: the DUT's interfaces are looked up there.
        var ifindexes = new[] { topology.West, topology.East }.ToDictionary(name => name,
            name => uint.Parse(VethPair.Exec(topology.Dut, $"cat /sys/class/net/{name}/ifindex").Trim(), System.Globalization.CultureInfo.InvariantCulture));
        var config = CommandLineConfig.Create(Enum.Parse<PortDriver>(driver, ignoreCase: true), [topology.West, topology.East], pass,
            WorkersConfig.Default, new ProgramConfig(), interfaces: name => ifindexes.TryGetValue(name, out var i) ? i : null);
        var options = new ApplianceOptions
        {
            Workers = new WorkerOptions { Pin = false },
            Ports = new PortOptions { RingSize = 512 },
            HostStack = taps.For,
        };
        appliance = topology.InDut(() => new RunningAppliance(BuiltProgram.Generated(config.Config ?? throw new InvalidOperationException(config.Diagnostics.Errors(null)), program), options));
        appliance.Start();
        running = Task.Run(() => appliance.RunUntil(stop.Token, TimeSpan.FromMinutes(1)));
    }

    public static string? WhyUnavailable() => VethPair.WhyUnavailable() ?? BpfSyscall.WhyUnavailable();

    /// <summary>The counters now, while the workers run.</summary>
    public StatsSnapshot Snapshot() => appliance.Pool.Snapshot();

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
            appliance.Dispose();
            taps.Dispose();
            stop.Dispose();
        }
    }
}
