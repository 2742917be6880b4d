using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Ports;

/// <summary>
/// One received frame, in place in the port's ring memory: the program runs on these bytes without a copy. The
/// buffer starts at <see cref="HardStart"/> with at least <see cref="XdpLayout.XDP_PACKET_HEADROOM"/> bytes in
/// front of <see cref="Data"/> (so bpf_xdp_adjust_head can grow the frame) and runs for <see cref="FrameSize"/>
/// bytes, of which the last <see cref="XdpLayout.SkbSharedInfoSize"/> stay reserved as in the kernel (so
/// bpf_xdp_adjust_tail can grow up to that point). A port fills these in <see cref="IPortQueue.Receive"/>; the
/// worker moves <see cref="Data"/> and <see cref="Length"/> after the program ran, then hands the frame back with
/// exactly one of <see cref="IPortQueue.Release"/> or <see cref="IPortQueue.Transmit"/>.
/// </summary>
public unsafe struct PortFrame
{
    /// <summary>Start of the frame's buffer (the kernel's xdp_buff.data_hard_start).</summary>
    public byte* HardStart;

    /// <summary>First byte of the packet; between HardStart + headroom on receive, anywhere in the buffer after the program.</summary>
    public byte* Data;

    /// <summary>Packet length in bytes (data_end - data).</summary>
    public int Length;

    /// <summary>Bytes of buffer from <see cref="HardStart"/>, tailroom included (the kernel's xdp_buff.frame_sz).</summary>
    public uint FrameSize;

    /// <summary>The port's own handle for the buffer (a UMEM address, a ring slot); opaque to workers.</summary>
    public ulong Handle;

    /// <summary>The frame as the program sees it, with <paramref name="ingressIfindex"/> and <paramref name="rxQueueIndex"/> for xdp_md.</summary>
    public readonly XdpContext ToContext(uint ingressIfindex, uint rxQueueIndex) => new()
    {
        HardStart = HardStart,
        Data = Data,
        DataEnd = Data + Length,
        DataMeta = Data,
        FrameSize = FrameSize,
        IngressIfindex = ingressIfindex,
        RxQueueIndex = rxQueueIndex,
    };

    /// <summary>Takes the program's view of the packet back (adjust_head/tail may have moved both ends).</summary>
    public void Update(in XdpContext context)
    {
        Data = context.Data;
        Length = context.Length;
    }

    public readonly ReadOnlySpan<byte> Packet => new(Data, Length);
}
