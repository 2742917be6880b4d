namespace XdpGate.Appliance.Ports;

/// <summary>
/// Where frames go when they leave the program's worker: a port's TX queue, the host stack (a TAP device), or a
/// capture file. A sink handed to a worker is used by that worker's thread only, so it needs no locks.
/// </summary>
public interface IFrameSink
{
    /// <summary>Copies <paramref name="packet"/> into a free TX buffer and queues it; never blocks.</summary>
    TxStatus TransmitCopy(ReadOnlySpan<byte> packet);

    /// <summary>
    /// Ends a batch: kicks the kernel for queued transmissions (sendto/wakeup), reaps completed ones and returns
    /// released RX buffers to the kernel. Called once per batch by the owning worker, even when the batch was empty.
    /// </summary>
    void Flush();

    /// <summary>
    /// True when the last <see cref="Flush"/> left frames the kernel has not taken yet (a busy device): a worker
    /// with nothing to receive comes back to flush again soon instead of sleeping its whole timeout.
    /// </summary>
    bool HasUnsentFrames => false;
}

/// <summary>
/// One queue of a port (an AF_XDP socket, a TPACKET_V3 ring pair, a synthetic stream): an RX ring and a TX ring,
/// owned by exactly one worker thread. Nothing here allocates or locks; every call returns a count or a status.
/// </summary>
public interface IPortQueue : IFrameSink
{
    /// <summary>The queue number the program sees as xdp_md.rx_queue_index.</summary>
    int QueueIndex { get; }

    /// <summary>A descriptor to poll() for readable (RX) events, or -1 when the queue is always ready (in-memory ports).</summary>
    int PollDescriptor { get; }

    /// <summary>
    /// True once the queue will never receive again (a replayed capture reached its end). Live ports never end;
    /// a run stops on its own only when every queue is exhausted.
    /// </summary>
    bool Exhausted { get; }

    /// <summary>
    /// Takes up to frames.Length received frames off the RX ring, in place, and returns how many it wrote (each with
    /// <see cref="PortFrame.Set"/>, which leaves the worker's fields alone). The frames must then come back with one
    /// <see cref="Complete"/> before the batch's <see cref="IFrameSink.Flush"/>. Returns 0 when nothing is waiting;
    /// never blocks.
    /// </summary>
    int Receive(Span<PortFrame> frames);

    /// <summary>
    /// Gives back every frame of a batch <see cref="Receive"/> returned, in one call, reserving ring slots once for
    /// all of them (as xdpsock does): a frame marked <see cref="FrameFate.Transmit"/> is sent out of this port in place
    /// from its current data and length, when the TX ring has room; every other frame, and every one that could not
    /// be sent, goes back to the kernel's fill side (XDP_DROP). How the transmissions went is added to <paramref name="tally"/>.
    /// </summary>
    void Complete(Span<PortFrame> frames, ref TransmitTally tally);

    /// <summary>Cumulative kernel-reported ring counters; may be read by one stats thread while the owner runs.</summary>
    RingStatistics ReadRingStatistics();
}

/// <summary>
/// A network port: an interface (or a synthetic or capture stand-in) opened with one queue per worker. Queue
/// <c>w</c> belongs to worker <c>w</c> for receiving and for every transmission that worker makes to this port
/// (XDP_TX, XDP_REDIRECT from another port, PASS from its inline peer), the way the kernel's XDP_REDIRECT uses the
/// target's TX queue of the current CPU. Disposing a port detaches whatever it attached and unmaps its rings.
/// </summary>
public interface IPort : IDisposable
{
    /// <summary>The interface name as given (or the synthetic/capture port's name).</summary>
    string Name { get; }

    /// <summary>
    /// The ifindex programs see as xdp_md.ingress_ifindex and name in bpf_redirect / devmap entries: the real
    /// interface's, or for in-memory ports a number given when the port is opened.
    /// </summary>
    int Ifindex { get; }

    /// <summary>The port's queues, one per worker, indexed by worker.</summary>
    IReadOnlyList<IPortQueue> Queues { get; }
}
