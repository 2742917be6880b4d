using XdpGate.Bpf.Xdp;
using XdpGate.Linux.AfPacket;

namespace XdpGate.Appliance.Ports.AfPacket;

/// <summary>
/// One AF_PACKET socket (TPACKET_V3 RX ring and TX ring) as a port queue. Received frames are used in place in their
/// RX block, with PACKET_RESERVE headroom in front; blocks go back to the kernel at <see cref="Flush"/>, when every
/// frame of the batch has been dealt with. Transmitting copies into the TX ring (the RX block is not sendable memory).
/// </summary>
internal sealed unsafe class AfPacketQueue : IPortQueue, IDisposable
{
    private readonly PacketSocket socket;
    private readonly PacketRxRing rx;
    private readonly PacketTxRing tx;
    private readonly Lock statisticsLock = new();
    private RingStatistics totals;
    private bool kickPending;
    private long kickErrors;

    public AfPacketQueue(PacketSocket socket, int queueIndex)
    {
        this.socket = socket;
        rx = socket.Rx ?? throw new ArgumentException($"{socket} has no RX ring", nameof(socket));
        tx = socket.Tx ?? throw new ArgumentException($"{socket} has no TX ring", nameof(socket));
        QueueIndex = queueIndex;
    }

    public int QueueIndex { get; }
    public int PollDescriptor => socket.Fd;
    public bool Exhausted => false;

    /// <summary>TX kicks the kernel refused with something other than "busy, later".</summary>
    public long KickErrors => Volatile.Read(ref kickErrors);

    public int Receive(Span<PortFrame> frames)
    {
        var count = 0;
        while (count < frames.Length && rx.TryNext(out var received))
        {
            // frame_sz counts the reserved skb_shared_info tail as the kernel's does, so bpf_xdp_adjust_tail can grow the
            // frame exactly up to the next frame in the block and no further.
            frames[count++].Set(received.Data - received.Headroom, received.Data, received.Length,
                (uint)(received.Headroom + received.Length + received.Tailroom + XdpLayout.SkbSharedInfoSize), 0);
        }
        return count;
    }

    // Received frames go back with their blocks, all at once at Flush; only transmissions copy (the RX block is not
    // sendable memory).
    public void Complete(Span<PortFrame> frames, ref TransmitTally tally)
    {
        for (var i = 0; i < frames.Length; i++)
        {
            ref var frame = ref frames[i];
            if (frame.Fate == FrameFate.Transmit)
                tally.Add(TransmitCopy(frame.Packet), frame.Length);
        }
    }

    public TxStatus TransmitCopy(ReadOnlySpan<byte> packet)
    {
        if (packet.Length > tx.MaxFrameLength)
            return TxStatus.TooLarge;
        if (!tx.TryEnqueue(packet))
        {
            // The ring is full of frames the kernel has not taken yet: the next Flush must kick even if nothing new fits.
            kickPending = true;
            return TxStatus.RingFull;
        }
        kickPending = true;
        return TxStatus.Sent;
    }

    public bool HasUnsentFrames => kickPending;

    public void Flush()
    {
        if (kickPending)
        {
            // A busy kick leaves the frames in the ring, so the flag stays and the next Flush kicks again;
            // otherwise a full ring would never be drained.
            switch (tx.Kick())
            {
                case PacketTxKick.Sent:
                    kickPending = false;
                    break;
                case PacketTxKick.Failed:
                    kickPending = false;
                    kickErrors++;
                    break;
            }
        }
        rx.ReleaseConsumed();
    }

    public RingStatistics ReadRingStatistics()
    {
        // PACKET_STATISTICS resets on every read, so the totals are kept here.
        lock (statisticsLock)
        {
            var stats = socket.ReadStatistics();
            totals = new RingStatistics
            {
                RxDropped = totals.RxDropped + stats.tp_drops,
                RxRingFull = totals.RxRingFull + stats.tp_drops,
                FillRingEmpty = totals.FillRingEmpty + stats.tp_freeze_q_cnt,
                TxInvalid = (ulong)tx.WrongFormat,
            };
            return totals;
        }
    }

    public void Dispose() => socket.Dispose();
}
