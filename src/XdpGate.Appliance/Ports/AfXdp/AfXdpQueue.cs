using XdpGate.Bpf.Xdp;
using XdpGate.Linux.AfXdp;
using XdpGate.Uapi;

namespace XdpGate.Appliance.Ports.AfXdp;

/// <summary>
/// One AF_XDP socket as a port queue. Its UMEM holds twice the ring size in chunks: the fill ring is kept full for
/// receiving, the rest are spare buffers for copies (redirects and PASS from other ports). A received frame is used
/// in place; at the end of its batch, DROP puts its chunk back on the fill ring, TX puts it on the TX ring as it is
/// (no copy), and finished transmissions come back through the completion ring to refill the fill ring first, then
/// the spares. Each ring is looked at once per batch, as xdpsock reserves once per batch.
/// </summary>
internal sealed unsafe class AfXdpQueue : IPortQueue, IDisposable
{
    private readonly XskSocket socket;
    private readonly ulong chunkMask;
    private readonly ulong[] spare;
    private int spareCount;
    private int queuedTx;
    private long kickErrors;

    public AfXdpQueue(XskSocket socket)
    {
        this.socket = socket;
        chunkMask = ~(ulong)(socket.FrameSize - 1);
        spare = new ulong[socket.FrameCount];
        var fill = socket.Fill;
        var filled = (int)Math.Min(fill.Free(fill.Size), (uint)socket.FrameCount / 2);
        for (var i = 0; i < filled; i++)
            fill.Addresses[fill.Produce()] = (ulong)i * (ulong)socket.FrameSize;
        fill.Submit();
        for (var i = filled; i < socket.FrameCount; i++)
            spare[spareCount++] = (ulong)i * (ulong)socket.FrameSize;
    }

    public int QueueIndex => socket.QueueId;
    public int PollDescriptor => socket.Fd;
    public bool Exhausted => false;
    public bool ZeroCopy => socket.ZeroCopy;

    /// <summary>TX kicks the kernel refused with something other than "busy, later".</summary>
    public long KickErrors => Volatile.Read(ref kickErrors);

    public int Receive(Span<PortFrame> frames)
    {
        var rx = socket.Rx;
        var count = (int)Math.Min(rx.Available(), (uint)frames.Length);
        if (count == 0)
        {
            socket.WakeRxIfNeeded();
            return 0;
        }
        var umem = socket.Umem;
        var frameSize = (uint)socket.FrameSize;
        for (var i = 0; i < count; i++)
        {
            var desc = rx.Descriptors[rx.Consume()];
            var chunk = desc.addr & chunkMask;
            frames[i].Set(umem + chunk, umem + desc.addr, (int)desc.len, frameSize, chunk);
        }
        // The descriptors are read; the chunks stay ours until they go back on the fill or TX ring.
        rx.Release();
        return count;
    }

    public void Complete(Span<PortFrame> frames, ref TransmitTally tally)
    {
        // One look at each ring for the whole batch: how many TX and fill slots are free now. The fill ring always
        // has room for a batch (it is kept full, and every frame of the batch came from it); TX may not.
        var tx = socket.Tx;
        var fill = socket.Fill;
        var txFree = tx.Free((uint)frames.Length);
        var fillFree = fill.Free((uint)frames.Length);
        for (var i = 0; i < frames.Length; i++)
        {
            ref var frame = ref frames[i];
            if (frame.Fate == FrameFate.Transmit)
            {
                if (txFree > 0)
                {
                    txFree--;
                    ref var desc = ref tx.Descriptors[tx.Produce()];
                    desc.addr = (ulong)(frame.Data - socket.Umem);
                    desc.len = (uint)frame.Length;
                    desc.options = 0;
                    queuedTx++;
                    tally.Add(TxStatus.Sent, frame.Length);
                    continue;
                }
                tally.Add(TxStatus.RingFull, frame.Length);
            }
            if (fillFree > 0)
            {
                fillFree--;
                fill.Addresses[fill.Produce()] = frame.Handle;
            }
            else
            {
                spare[spareCount++] = frame.Handle;
            }
        }
    }

    public TxStatus TransmitCopy(ReadOnlySpan<byte> packet)
    {
        if (packet.Length > socket.FrameSize - XdpLayout.XDP_PACKET_HEADROOM)
            return TxStatus.TooLarge;
        if (spareCount == 0)
            Reap();
        var tx = socket.Tx;
        if (spareCount == 0 || tx.Free(1) == 0)
            return TxStatus.RingFull;
        var address = spare[--spareCount] + XdpLayout.XDP_PACKET_HEADROOM;
        packet.CopyTo(new Span<byte>(socket.Umem + address, packet.Length));
        ref var desc = ref tx.Descriptors[tx.Produce()];
        desc.addr = address;
        desc.len = (uint)packet.Length;
        desc.options = 0;
        queuedTx++;
        return TxStatus.Sent;
    }

    public bool HasUnsentFrames => socket.Tx.Unconsumed > 0;

    public void Flush()
    {
        socket.Fill.Submit();
        if (queuedTx > 0)
        {
            socket.Tx.Submit();
            queuedTx = 0;
        }
        // Copy mode sends at most 32 descriptors per kick and says EAGAIN when more are left, so kick until the kernel
        // has taken them all; a kick that takes nothing (device busy: EBUSY, ENOBUFS) ends the loop, so it is bounded.
        for (var left = socket.Tx.Unconsumed; left > 0;)
        {
            var errno = socket.KickTx();
            if (errno != 0 && errno != Errno.EAGAIN && errno != Errno.EBUSY && errno != Errno.ENOBUFS)
            {
                kickErrors++;
                break;
            }
            var now = socket.Tx.Unconsumed;
            if (now >= left)
                break;
            left = now;
        }
        Reap();
    }

    public RingStatistics ReadRingStatistics()
    {
        var stats = socket.ReadStatistics();
        return new RingStatistics
        {
            RxDropped = stats.rx_dropped + stats.rx_ring_full,
            RxRingFull = stats.rx_ring_full,
            FillRingEmpty = stats.rx_fill_ring_empty_descs,
            TxInvalid = stats.tx_invalid_descs,
        };
    }

    /// <summary>Takes finished transmissions off the completion ring: to the fill ring while it has room (receiving comes first), else to the spares.</summary>
    private void Reap()
    {
        var completion = socket.Completion;
        var done = completion.Available();
        if (done == 0)
            return;
        var fill = socket.Fill;
        var fillFree = fill.Free(done);
        for (var i = 0u; i < done; i++)
        {
            var chunk = completion.Addresses[completion.Consume()] & chunkMask;
            if (fillFree > 0)
            {
                fillFree--;
                fill.Addresses[fill.Produce()] = chunk;
            }
            else
            {
                spare[spareCount++] = chunk;
            }
        }
        completion.Release();
        fill.Submit();
    }

    public void Dispose() => socket.Dispose();
}
