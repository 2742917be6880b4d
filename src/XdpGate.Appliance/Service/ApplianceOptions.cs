using XdpGate.Appliance.Config;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports.Synthetic;
using XdpGate.Appliance.Ports;

namespace XdpGate.Appliance.Service;

/// <summary>How a config is run: what the config does not say (how workers work, ring sizes, where captures are written).</summary>
public sealed record ApplianceOptions
{
    /// <summary>How the workers work; how many there are and their CPUs are the config's.</summary>
    public WorkerOptions Workers { get; init; } = new();

    /// <summary>Ring sizes and busy-polling of every port; the queue count is always the worker count.</summary>
    public PortOptions Ports { get; init; } = new();

    /// <summary>The traffic of the config's synthetic ports.</summary>
    public SyntheticTraffic Synthetic { get; init; } = new();

    /// <summary>Where pcap ports write what leaves them (NAME.tx.pcap, NAME.pass.pcap); null discards it.</summary>
    public string? PcapOutput { get; init; }

    /// <summary>The host stack of a real interface's port (a TAP device); null counts such PASS frames as having no target.</summary>
    public Func<IPort, int, IFrameSink>? HostStack { get; init; }

    /// <summary>Opens a config's port in place of its driver (an embedding's own ports), or returns null for the driver's.</summary>
    public Func<PortConfig, PortOptions, IPort?>? OpenPort { get; init; }

    /// <summary>Interface name to ifindex for validating configs (at start and on reload); null reads /sys/class/net.</summary>
    public Func<string, uint?>? Interfaces { get; init; }

    /// <summary>Where the appliance reports what it does (started, reloaded, a reload refused); null is silent.</summary>
    public Action<LogLevel, string>? Log { get; init; }

    /// <summary>Override of the config's control socket path; the empty string serves none.</summary>
    public string? ControlSocket { get; init; }

    /// <summary>Watch the config file and reload when it changes (after <see cref="WatchDebounce"/> of quiet).</summary>
    public bool WatchConfig { get; init; } = true;

    public TimeSpan WatchDebounce { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// End the run once every port's traffic has ended (a replayed capture, a synthetic count), as `run --iface` does;
    /// off, the appliance keeps serving (its control socket, its final counters) until stopped.
    /// </summary>
    public bool StopWhenTrafficEnds { get; init; }
}
