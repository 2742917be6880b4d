using static XdpGate.Linux.AfPacket.if_packet;

namespace XdpGate.Linux.AfPacket;

/// <summary>A received frame, in place in the ring: valid until the block holding it is released.</summary>
public readonly unsafe struct PacketRxFrame(byte* data, int length, int wireLength, int headroom, int tailroom)
{
    /// <summary>The first byte of the Ethernet header.</summary>
    public byte* Data { get; } = data;

    /// <summary>Bytes captured (tp_snaplen).</summary>
    public int Length { get; } = length;

    /// <summary>Bytes on the wire (tp_len); more than <see cref="Length"/> when the frame did not fit its block.</summary>
    public int WireLength { get; } = wireLength;

    /// <summary>Free bytes in front of <see cref="Data"/> that belong to this frame (at least PACKET_RESERVE).</summary>
    public int Headroom { get; } = headroom;

    /// <summary>Free bytes after the frame that belong to it: up to the next frame's header, or to the block's end for the last.</summary>
    public int Tailroom { get; } = tailroom;
}

/// <summary>
/// The TPACKET_V3 RX ring: the kernel fills whole blocks and hands each over by setting TP_STATUS_USER in its
/// block_status; user space walks the frames and gives the block back with TP_STATUS_KERNEL. Frames are read in
/// place. A block is given back only by <see cref="ReleaseConsumed"/>, so every frame of a batch stays valid until
/// the batch is done.
/// </summary>
public sealed unsafe class PacketRxRing
{
    private readonly byte* ring;
    private readonly int blockSize;
    private readonly int blockCount;
    private readonly int frameStart;

    private int firstUnreleased;   // the oldest block taken from the kernel and not yet given back
    private int taken;             // blocks taken: firstUnreleased .. firstUnreleased + taken - 1
    private byte* next;            // the next frame of the newest taken block
    private byte* blockEnd;        // the end of the newest taken block
    private uint remaining;        // frames left in the newest taken block

    internal PacketRxRing(byte* ring, int blockSize, int blockCount)
    {
        this.ring = ring;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        // The frame's data lies tp_mac bytes after its header; the bytes after the header's sockaddr_ll are free.
        frameStart = PacketSocket.HeaderLength + sizeof(sockaddr_ll);
    }

    public int BlockSize => blockSize;
    public int BlockCount => blockCount;

    /// <summary>
    /// The next received frame, or false when the kernel has handed over no further block. Takes a new block when the
    /// current one is exhausted, unless every block is already taken (call <see cref="ReleaseConsumed"/>).
    /// </summary>
    public bool TryNext(out PacketRxFrame frame)
    {
        while (remaining == 0)
        {
            if (taken == blockCount)
            {
                frame = default;
                return false;
            }
            var block = (tpacket_block_desc*)(ring + (long)((firstUnreleased + taken) % blockCount) * blockSize);
            // Acquire: the frames the kernel wrote are visible once block_status says TP_STATUS_USER.
            if ((Volatile.Read(ref block->hdr.block_status) & TP_STATUS_USER) == 0)
            {
                frame = default;
                return false;
            }
            taken++;
            remaining = block->hdr.num_pkts;
            next = (byte*)block + block->hdr.offset_to_first_pkt;
            blockEnd = (byte*)block + blockSize;
        }
        var header = (tpacket3_hdr*)next;
        var data = next + header->tp_mac;
        var end = data + header->tp_snaplen;
        remaining--;
        // The last frame's tp_next_offset is 0: its room runs to the end of the block, which is ours until released.
        var roomEnd = remaining == 0 ? blockEnd : next + header->tp_next_offset;
        frame = new PacketRxFrame(data, (int)header->tp_snaplen, (int)header->tp_len, header->tp_mac - frameStart, (int)(roomEnd - end));
        next += header->tp_next_offset;
        return true;
    }

    /// <summary>
    /// Gives back to the kernel every taken block whose frames have all been returned by <see cref="TryNext"/>; the
    /// frames in them must no longer be used.
    /// </summary>
    public void ReleaseConsumed()
    {
        var done = remaining == 0 ? taken : taken - 1;
        for (var i = 0; i < done; i++)
        {
            var block = (tpacket_block_desc*)(ring + (long)firstUnreleased * blockSize);
            // Release: our reads of the frames complete before the kernel may overwrite them.
            Volatile.Write(ref block->hdr.block_status, TP_STATUS_KERNEL);
            firstUnreleased = (firstUnreleased + 1) % blockCount;
        }
        taken -= done;
    }
}
