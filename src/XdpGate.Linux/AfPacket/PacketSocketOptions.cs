namespace XdpGate.Linux.AfPacket;

/// <summary>How an AF_PACKET socket is set up; every field has the default noted on it.</summary>
public sealed record PacketSocketOptions
{
    /// <summary>Bytes per RX block (a multiple of the page size, power of two). Default 1 MiB.</summary>
    public int RxBlockSize { get; init; } = 1 << 20;

    /// <summary>RX blocks; 0 opens no RX ring. Default 8.</summary>
    public int RxBlockCount { get; init; } = 8;

    /// <summary>
    /// How long the kernel keeps a partly filled RX block before handing it over (tp_retire_blk_tov, milliseconds):
    /// bounds the latency at low rates. Default 2.
    /// </summary>
    public int RxBlockTimeoutMs { get; init; } = 2;

    /// <summary>
    /// Bytes the kernel leaves free in front of each received frame (PACKET_RESERVE), so a program can grow the frame
    /// at the front in place (bpf_xdp_adjust_head). Default 256, the headroom XDP gives.
    /// </summary>
    public int Headroom { get; init; } = 256;

    /// <summary>TX frame slots; 0 opens no TX ring. Default 1024.</summary>
    public int TxFrameCount { get; init; } = 1024;

    /// <summary>Bytes per TX slot including the 48-byte tpacket3_hdr (a power of two, at most the page size). Default 2048.</summary>
    public int TxFrameSize { get; init; } = 2048;

    /// <summary>Receive frames addressed to other MACs (PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC). Default true.</summary>
    public bool Promiscuous { get; init; } = true;

    /// <summary>Do not receive the frames this host sends on the interface (PACKET_IGNORE_OUTGOING). Default true.</summary>
    public bool IgnoreOutgoing { get; init; } = true;

    /// <summary>Hand TX frames straight to the driver, skipping the qdisc layer (PACKET_QDISC_BYPASS). Default true.</summary>
    public bool QdiscBypass { get; init; } = true;

    /// <summary>Join this PACKET_FANOUT group (hash mode), so sockets of one group share the interface's frames by flow; null joins none.</summary>
    public ushort? FanoutGroup { get; init; }

    internal void Validate()
    {
        var page = Environment.SystemPageSize;
        if (RxBlockCount < 0)
            throw new ArgumentOutOfRangeException(nameof(RxBlockCount), RxBlockCount, "RX block count must not be negative");
        if (RxBlockCount > 0 && (RxBlockSize < page || !int.IsPow2(RxBlockSize)))
            throw new ArgumentOutOfRangeException(nameof(RxBlockSize), RxBlockSize, $"RX block size must be a power of two of at least the page size {page}");
        if (RxBlockTimeoutMs is < 0 or > 1000)
            throw new ArgumentOutOfRangeException(nameof(RxBlockTimeoutMs), RxBlockTimeoutMs, "RX block timeout must be 0 (kernel default) to 1000 ms");
        if (Headroom is < 0 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(Headroom), Headroom, "headroom must be 0 to 4096 bytes");
        if (TxFrameCount < 0)
            throw new ArgumentOutOfRangeException(nameof(TxFrameCount), TxFrameCount, "TX frame count must not be negative");
        if (TxFrameCount > 0 && (TxFrameSize < 128 || TxFrameSize > page || !int.IsPow2(TxFrameSize)))
            throw new ArgumentOutOfRangeException(nameof(TxFrameSize), TxFrameSize, $"TX frame size must be a power of two from 128 to the page size {page}");
        if (RxBlockCount == 0 && TxFrameCount == 0)
            throw new ArgumentException("a packet socket needs an RX ring, a TX ring or both");
    }
}
