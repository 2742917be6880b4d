using XdpGate.Appliance.Ports;

namespace XdpGate.Appliance.Dataplane;

/// <summary>
/// Where XDP_PASS sends a frame. `--pass host` (the default): the host network stack behind the port, which for a
/// real interface is a TAP device the appliance creates (frames written to it are received by the kernel as if
/// they arrived on that TAP interface), and for in-memory ports their own stand-in. `--pass IF`: the port IF, the
/// bump-in-the-wire mode; with exactly two ports they form an inline pair and each passes to the other, with more,
/// every other port passes to IF and IF itself passes to the host.
/// </summary>
public static class PassTargets
{
    public const string Host = "host";

    /// <param name="hostStack">The host stack of a port that has no stand-in of its own (a TAP device), by queue.</param>
    public static Func<IPort, int, IFrameSink?> Resolve(IReadOnlyList<IPort> ports, string pass, Func<IPort, int, IFrameSink>? hostStack)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(pass);
        IFrameSink? Host(IPort port, int queue) => port is IHostStackPort own ? own.HostStack(queue) : hostStack?.Invoke(port, queue);
        if (pass == PassTargets.Host)
            return Host;
        var peer = ports.FirstOrDefault(p => p.Name == pass)
            ?? throw new ArgumentException($"--pass {pass}: no such port (ports: {string.Join(", ", ports.Select(p => p.Name))}; or 'host')");
        if (ports.Count == 2)
            return (port, queue) => (port == peer ? ports.First(p => p != peer) : peer).Queues[queue];
        return (port, queue) => port == peer ? Host(port, queue) : peer.Queues[queue];
    }
}
