namespace XdpGate.Appliance.Ports;

/// <summary>How a port is opened: the same for every driver, so the appliance treats them alike.</summary>
public sealed record PortOptions
{
    /// <summary>Queues to open, one per worker.</summary>
    public int Queues { get; init; } = 1;

    /// <summary>Frames per ring (RX and TX each); a power of two.</summary>
    public int RingSize { get; init; } = 2048;

    /// <summary>Bytes per frame buffer, headroom and reserved tailroom included.</summary>
    public int FrameSize { get; init; } = Bpf.Xdp.XdpLayout.FrameSize;

    /// <summary>Ask the kernel to busy-poll the device (SO_PREFER_BUSY_POLL / SO_BUSY_POLL) where the device's kernel driver supports it.</summary>
    public bool BusyPoll { get; init; }
}
