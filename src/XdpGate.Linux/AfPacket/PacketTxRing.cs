using static XdpGate.Linux.AfPacket.if_packet;
using LibC = Tmds.Linux.LibC;

namespace XdpGate.Linux.AfPacket;

/// <summary>What a TX kick did.</summary>
public enum PacketTxKick
{
    /// <summary>The kernel took the queued frames.</summary>
    Sent,
    /// <summary>The device or socket was busy (EAGAIN, ENOBUFS): the frames stay queued for the next kick.</summary>
    Busy,
    /// <summary>The kernel refused (errno in <see cref="PacketTxRing.LastErrno"/>).</summary>
    Failed,
}

/// <summary>
/// A TPACKET_V3 TX ring of fixed slots: fill a slot, commit it (TP_STATUS_SEND_REQUEST), kick with sendto(); the
/// kernel sets the slot back to TP_STATUS_AVAILABLE once the frame has left (for veth: once the peer freed it).
/// Sending copies nothing: the skb points into the ring.
/// </summary>
public sealed unsafe class PacketTxRing
{
    private readonly int fd;
    private readonly byte* ring;
    private readonly int blockSize;
    private readonly int frameSize;
    private readonly int framesPerBlock;
    private readonly int dataOffset;
    private int head;

    internal PacketTxRing(int fd, byte* ring, int blockSize, int frameSize, int frameCount)
    {
        this.fd = fd;
        this.ring = ring;
        this.blockSize = blockSize;
        this.frameSize = frameSize;
        FrameCount = frameCount;
        framesPerBlock = blockSize / frameSize;
        // Without PACKET_TX_HAS_OFF the kernel reads the frame at tp_hdrlen - sizeof(struct sockaddr_ll).
        dataOffset = PacketSocket.HeaderLength;
    }

    public int FrameCount { get; }

    /// <summary>The largest frame a slot takes.</summary>
    public int MaxFrameLength => frameSize - dataOffset;

    /// <summary>Frames the kernel marked TP_STATUS_WRONG_FORMAT (and skipped, PACKET_LOSS being set).</summary>
    public long WrongFormat { get; private set; }

    /// <summary>errno of the last <see cref="PacketTxKick.Failed"/> kick.</summary>
    public int LastErrno { get; private set; }

    /// <summary>The next free slot's data area (<see cref="MaxFrameLength"/> bytes), or null while the kernel still holds it.</summary>
    public byte* TryReserve()
    {
        var header = Header(head);
        var status = Volatile.Read(ref header->tp_status);
        if (status == TP_STATUS_AVAILABLE)
            return (byte*)header + dataOffset;
        if ((status & TP_STATUS_WRONG_FORMAT) != 0)
        {
            WrongFormat++;
            return (byte*)header + dataOffset;
        }
        return null;
    }

    /// <summary>Queues the slot <see cref="TryReserve"/> returned, holding a frame of <paramref name="length"/> bytes.</summary>
    public void Commit(int length)
    {
        var header = Header(head);
        header->tp_len = (uint)length;
        header->tp_snaplen = (uint)length;
        header->tp_next_offset = 0;
        // Release: the frame bytes are written before the kernel sees the request.
        Volatile.Write(ref header->tp_status, TP_STATUS_SEND_REQUEST);
        head = head + 1 == FrameCount ? 0 : head + 1;
    }

    /// <summary>Copies <paramref name="frame"/> into the next slot and queues it; false when the ring is full or the frame too long.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> frame)
    {
        if (frame.Length > MaxFrameLength)
            return false;
        var slot = TryReserve();
        if (slot == null)
            return false;
        frame.CopyTo(new Span<byte>(slot, frame.Length));
        Commit(frame.Length);
        return true;
    }

    /// <summary>Asks the kernel to send every queued frame, without blocking.</summary>
    public PacketTxKick Kick()
    {
        if ((long)LibC.sendto(fd, null, 0, LibC.MSG_DONTWAIT, null, 0) >= 0)
            return PacketTxKick.Sent;
        var errno = LibC.errno;
        if (errno == LibC.EAGAIN || errno == LibC.ENOBUFS)
            return PacketTxKick.Busy;
        LastErrno = errno;
        return PacketTxKick.Failed;
    }

    private tpacket3_hdr* Header(int index) =>
        (tpacket3_hdr*)(ring + (long)(index / framesPerBlock) * blockSize + (long)(index % framesPerBlock) * frameSize);
}
