namespace XdpGate.Linux.AfXdp;

/// <summary>How the kernel moves frames between the driver and the UMEM.</summary>
public enum XskBindMode
{
    /// <summary>Zero-copy where the driver supports it, copy mode otherwise.</summary>
    Auto,
    Copy,
    ZeroCopy,
}

/// <summary>How an AF_XDP socket and its UMEM are set up; every field has the default noted on it.</summary>
public sealed record XskOptions
{
    /// <summary>UMEM frames (chunks). Default 4096.</summary>
    public int FrameCount { get; init; } = 4096;

    /// <summary>Bytes per UMEM chunk: 2048 or 4096 (aligned chunk mode). Default 4096.</summary>
    public int FrameSize { get; init; } = 4096;

    /// <summary>Entries of each of the four rings, a power of two. Default 2048.</summary>
    public int RingSize { get; init; } = 2048;

    public XskBindMode Mode { get; init; } = XskBindMode.Auto;

    /// <summary>XDP_USE_NEED_WAKEUP: the kernel says when it needs a syscall, so a busy loop makes none otherwise. Default true.</summary>
    public bool NeedWakeup { get; init; } = true;

    /// <summary>
    /// Preferred busy polling (SO_PREFER_BUSY_POLL, SO_BUSY_POLL, SO_BUSY_POLL_BUDGET): the driver's NAPI runs in
    /// this socket's recvfrom/sendto calls instead of softirq, so receiving costs no interrupt. Default false.
    /// </summary>
    public bool BusyPoll { get; init; }

    /// <summary>Microseconds a busy-polling call spins on the device (SO_BUSY_POLL). Default 20.</summary>
    public int BusyPollMicroseconds { get; init; } = 20;

    internal void Validate()
    {
        if (FrameSize is not (2048 or 4096))
            throw new ArgumentOutOfRangeException(nameof(FrameSize), FrameSize, "AF_XDP frame size must be 2048 or 4096");
        if (RingSize < 2 || !int.IsPow2(RingSize))
            throw new ArgumentOutOfRangeException(nameof(RingSize), RingSize, "ring size must be a power of two of at least 2");
        if (FrameCount < RingSize)
            throw new ArgumentOutOfRangeException(nameof(FrameCount), FrameCount, $"need at least as many frames as ring entries ({RingSize})");
    }
}
