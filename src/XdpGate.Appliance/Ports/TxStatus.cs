namespace XdpGate.Appliance.Ports;

/// <summary>
/// What became of a frame handed to a port for transmission. Anything but <see cref="Sent"/> leaves the frame with
/// the caller (who releases it and counts the reason); no status ever means "try again later", so a full ring
/// costs a counted drop, never a wait.
/// </summary>
public enum TxStatus
{
    /// <summary>Queued on the TX ring; it leaves at the next <see cref="IFrameSink.Flush"/> at the latest.</summary>
    Sent = 0,

    /// <summary>The TX ring (or the pool of buffers to copy into) has no free slot.</summary>
    RingFull,

    /// <summary>The frame is longer than the target's frames (or MTU) allow.</summary>
    TooLarge,

    /// <summary>The kernel refused the frame (a send or write error); the port's error counter says more.</summary>
    Error,
}
