using XdpGate.Appliance.Ports;

namespace XdpGate.Appliance.Dataplane;

/// <summary>A port as one worker sees it: the queue it owns, where that queue's PASS frames go, and its counters.</summary>
public sealed class WorkerPort
{
    public WorkerPort(IPort port, int worker, IFrameSink? pass, QueueCounters counters)
    {
        ArgumentNullException.ThrowIfNull(port);
        ArgumentNullException.ThrowIfNull(counters);
        if ((uint)worker >= (uint)port.Queues.Count)
            throw new ArgumentOutOfRangeException(nameof(worker), worker, $"port '{port.Name}' has {port.Queues.Count} queue(s)");
        Port = port;
        Queue = port.Queues[worker];
        Ifindex = (uint)port.Ifindex;
        QueueIndex = (uint)Queue.QueueIndex;
        Pass = pass;
        Counters = counters;
    }

    public IPort Port { get; }
    public IPortQueue Queue { get; }
    public uint Ifindex { get; }
    public uint QueueIndex { get; }

    /// <summary>The host stack (TAP), the inline peer's queue of this worker, a capture file, or none (PASS is then counted and dropped).</summary>
    public IFrameSink? Pass { get; }

    /// <summary>
    /// Frames the host stack sends out of this port (from its TAP), read by this worker and sent without running
    /// the program; set for one worker per port only, so a source has one reader.
    /// </summary>
    public IFrameSource? HostEgress { get; init; }

    public QueueCounters Counters { get; }
}
