using XdpGate.Bpf.Program;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// Which context fields a program type may read and write, and with what width, as the kernel's
/// xdp_is_valid_access and sk_filter_is_valid_access (with bpf_skb_is_valid_access) decide; and what a load gives.
/// </summary>
internal static class ContextAccess
{
    /// <summary>sizeof(struct xdp_md).</summary>
    private const int XdpMdSize = 24;

    /// <summary>sizeof(struct __sk_buff) on 64-bit kernels.</summary>
    private const int SkBuffSize = 192;

    /// <summary>
    /// The kind of value a load of <paramref name="size"/> bytes at <paramref name="off"/> gives (null when refused);
    /// for a write, non-null means allowed.
    /// </summary>
    public static RegKind? Check(bpf_prog_type type, int off, int size, bool write, bool devmapAttach) => type switch
    {
        bpf_prog_type.BPF_PROG_TYPE_XDP => Xdp(off, size, write, devmapAttach),
        bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER => SocketFilter(off, size, write),
        _ => null,
    };

    private static RegKind? Xdp(int off, int size, bool write, bool devmapAttach)
    {
        // Every xdp_md field is a u32 read whole; none is writable (only offloaded programs may write rx_queue_index).
        if (write || off < 0 || off >= XdpMdSize || size != 4 || off % size != 0)
            return null;
        return off switch
        {
            0 => RegKind.Packet,
            4 => RegKind.PacketEnd,
            8 => RegKind.PacketMeta,
            20 when !devmapAttach => null, // egress_ifindex exists only for programs run from a devmap
            _ => RegKind.Scalar,
        };
    }

    // __sk_buff offsets (uapi/linux/bpf.h).
    private const int Cb0 = 48, CbEnd = 68, TcClassid = 72, Data = 76, DataEnd = 80, Family = 88, RemoteIp4 = 92,
        LocalIp4 = 96, RemoteIp6 = 100, LocalIp6 = 116, LocalPortEnd = 140, DataMeta = 140, FlowKeys = 144, Tstamp = 152,
        WireLen = 160, Sk = 168, TstampType = 180, Hwtstamp = 184;

    private static RegKind? SocketFilter(int off, int size, bool write)
    {
        if (off < 0 || off >= SkBuffSize || off % size != 0)
            return null;
        bool In(int start, int length) => off >= start && off < start + length;
        // sk_filter_is_valid_access: fields socket filters may not touch at all.
        if (In(TcClassid, 4) || In(Data, 4) || In(DataMeta, 4) || In(DataEnd, 4) || (off >= Family && off < LocalPortEnd)
            || In(Tstamp, 8) || In(WireLen, 4) || In(Hwtstamp, 8))
            return null;
        if (write && !In(Cb0, CbEnd - Cb0))
            return null;
        if (In(Cb0, CbEnd - Cb0))
            return off + size <= CbEnd ? RegKind.Scalar : null;
        if (In(RemoteIp4, 4) || In(LocalIp4, 4) || In(RemoteIp6, 16) || In(LocalIp6, 16))
            return size == 4 ? RegKind.Scalar : null;
        if (In(FlowKeys, 8) || In(TstampType, Hwtstamp - TstampType))
            return null;
        if (off == Sk)
            // A socket pointer the kernel would track as sock_common_or_null; we offer no access through it.
            return !write && size == 8 ? RegKind.Scalar : null;
        if (In(Sk, 8))
            return null;
        // Narrow reads of the u32 fields; 8-byte reads of them are not allowed.
        return size <= 4 ? RegKind.Scalar : null;
    }
}
