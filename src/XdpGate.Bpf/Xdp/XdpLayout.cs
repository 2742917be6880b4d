namespace XdpGate.Bpf.Xdp;

/// <summary>The kernel's frame geometry that XDP helpers are defined against (x86_64 values).</summary>
#pragma warning disable CA1707 // kernel names kept exactly
public static class XdpLayout
{
    /// <summary>XDP_PACKET_HEADROOM: room in front of the packet for bpf_xdp_adjust_head and metadata.</summary>
    public const int XDP_PACKET_HEADROOM = 256;

    /// <summary>sizeof(struct xdp_frame): the kernel keeps it at the start of the headroom, so data cannot grow into it.</summary>
    public const int XdpFrameSize = 40;

    /// <summary>SKB_DATA_ALIGN(sizeof(struct skb_shared_info)): tailroom the kernel reserves, so adjust_tail cannot grow into it.</summary>
    public const int SkbSharedInfoSize = 320;

    /// <summary>One page per frame, as drivers and BPF_PROG_TEST_RUN give XDP.</summary>
    public const int FrameSize = 4096;

    /// <summary>The largest packet a frame holds.</summary>
    public const int MaxPacketSize = FrameSize - XDP_PACKET_HEADROOM - SkbSharedInfoSize;

    public const int ETH_HLEN = 14;

    /// <summary>
    /// A frame is an Ethernet header up to what one linear frame holds, as the kernel's XDP test run takes it (longer
    /// ones become multi-buffer fragments there, which frames here do not support yet).
    /// </summary>
    public static void CheckFrameLength(int length, string what)
    {
        if (length < ETH_HLEN)
            throw new ArgumentException($"{what} is {length} bytes; an XDP frame needs at least an Ethernet header ({ETH_HLEN} bytes)");
        if (length > MaxPacketSize)
            throw new ArgumentException($"{what} is {length} bytes; a frame holds at most {MaxPacketSize} (multi-buffer frames are not supported)");
    }
}
