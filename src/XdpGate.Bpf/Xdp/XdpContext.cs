namespace XdpGate.Bpf.Xdp;

/// <summary>
/// One frame as an XDP program runs on it (the kernel's <c>struct xdp_buff</c>): pointers into a frame buffer with
/// headroom in front and tailroom behind, so adjust_head/meta/tail move pointers instead of copying the packet.
/// The frame memory belongs to whoever supplies it (a ring, a <see cref="PacketBuffer"/>).
/// </summary>
public unsafe struct XdpContext
{
    public byte* HardStart;
    public byte* Data;
    public byte* DataEnd;
    public byte* DataMeta;
    public uint FrameSize;
    public uint IngressIfindex;
    public uint RxQueueIndex;
    public uint EgressIfindex;

    /// <summary>Bytes between data and data_end.</summary>
    public readonly int Length => (int)(DataEnd - Data);

    /// <summary>Bytes of metadata between data_meta and data.</summary>
    public readonly int MetaLength => (int)(Data - DataMeta);

    /// <summary>Where adjust_tail must stop: the frame end less the tailroom the kernel reserves.</summary>
    public readonly byte* HardEnd => HardStart + FrameSize - XdpLayout.SkbSharedInfoSize;

    public readonly Span<byte> Packet => new(Data, Length);

    public readonly Span<byte> Metadata => new(DataMeta, MetaLength);
}
