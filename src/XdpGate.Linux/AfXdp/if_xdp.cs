using System.Runtime.InteropServices;

namespace XdpGate.Linux.AfXdp;

// uapi/linux/if_xdp.h (and AF_XDP/SOL_XDP of sys/socket.h): names and layouts as in the header
// (tests/XdpGate.Linux.Tests compiles the header and compares).
#pragma warning disable CA1707, IDE1006, CS8981 // kernel names kept exactly

/// <summary>The #defines of if_xdp.h used here.</summary>
public static class if_xdp
{
    public const int AF_XDP = 44;
    public const int SOL_XDP = 283;

    // sockaddr_xdp.sxdp_flags.
    public const ushort XDP_SHARED_UMEM = 1 << 0;
    public const ushort XDP_COPY = 1 << 1;
    public const ushort XDP_ZEROCOPY = 1 << 2;
    public const ushort XDP_USE_NEED_WAKEUP = 1 << 3;

    // xdp_ring_offset flags word.
    public const uint XDP_RING_NEED_WAKEUP = 1 << 0;

    // Socket options.
    public const int XDP_MMAP_OFFSETS = 1;
    public const int XDP_RX_RING = 2;
    public const int XDP_TX_RING = 3;
    public const int XDP_UMEM_REG = 4;
    public const int XDP_UMEM_FILL_RING = 5;
    public const int XDP_UMEM_COMPLETION_RING = 6;
    public const int XDP_STATISTICS = 7;
    public const int XDP_OPTIONS = 8;

    public const uint XDP_OPTIONS_ZEROCOPY = 1 << 0;

    // mmap offsets of the rings.
    public const long XDP_PGOFF_RX_RING = 0;
    public const long XDP_PGOFF_TX_RING = 0x80000000;
    public const long XDP_UMEM_PGOFF_FILL_RING = 0x100000000;
    public const long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000;
}

/// <summary>struct sockaddr_xdp.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct sockaddr_xdp
{
    public ushort sxdp_family;
    public ushort sxdp_flags;
    public uint sxdp_ifindex;
    public uint sxdp_queue_id;
    public uint sxdp_shared_umem_fd;
}

/// <summary>struct xdp_ring_offset: where a ring's producer, consumer, descriptors and flags lie in its mapping.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct xdp_ring_offset
{
    public ulong producer;
    public ulong consumer;
    public ulong desc;
    public ulong flags;
}

/// <summary>struct xdp_mmap_offsets (XDP_MMAP_OFFSETS).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct xdp_mmap_offsets
{
    public xdp_ring_offset rx;
    public xdp_ring_offset tx;
    public xdp_ring_offset fr;
    public xdp_ring_offset cr;
}

/// <summary>
/// struct xdp_umem_reg (XDP_UMEM_REG). tx_metadata_len (6.8) fills what was padding before, so the size is the same
/// for every kernel and zero keeps the old meaning.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct xdp_umem_reg
{
    public ulong addr;
    public ulong len;
    public uint chunk_size;
    public uint headroom;
    public uint flags;
    public uint tx_metadata_len;
}

/// <summary>struct xdp_statistics (XDP_STATISTICS), cumulative.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct xdp_statistics
{
    public ulong rx_dropped;
    public ulong rx_invalid_descs;
    public ulong tx_invalid_descs;
    public ulong rx_ring_full;
    public ulong rx_fill_ring_empty_descs;
    public ulong tx_ring_empty_descs;
}

/// <summary>struct xdp_options (XDP_OPTIONS).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct xdp_options
{
    public uint flags;
}

/// <summary>struct xdp_desc: an RX or TX ring entry, a frame at a UMEM address.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct xdp_desc
{
    public ulong addr;
    public uint len;
    public uint options;
}
#pragma warning restore CA1707, IDE1006, CS8981
