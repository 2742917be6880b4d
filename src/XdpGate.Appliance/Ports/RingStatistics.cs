namespace XdpGate.Appliance.Ports;

/// <summary>
/// What the kernel reports about one queue's rings, cumulative since the queue was opened (a port whose kernel
/// counters reset on read, like PACKET_STATISTICS, sums them itself). Zero where a kind of port has no such counter.
/// </summary>
public readonly record struct RingStatistics
{
    /// <summary>Frames the kernel dropped before they reached the RX ring (AF_XDP rx_dropped + rx_ring_full, TPACKET tp_drops).</summary>
    public ulong RxDropped { get; init; }

    /// <summary>Of those, frames dropped because the RX ring itself was full (AF_XDP rx_ring_full; TPACKET counts every drop here).</summary>
    public ulong RxRingFull { get; init; }

    /// <summary>Times the kernel found no buffer to receive into (AF_XDP rx_fill_ring_empty_descs; TPACKET tp_freeze_q_cnt).</summary>
    public ulong FillRingEmpty { get; init; }

    /// <summary>TX descriptors the kernel refused (AF_XDP tx_invalid_descs; TPACKET frames marked TP_STATUS_WRONG_FORMAT).</summary>
    public ulong TxInvalid { get; init; }
}
