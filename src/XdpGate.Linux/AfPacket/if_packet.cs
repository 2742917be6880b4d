using System.Runtime.InteropServices;

namespace XdpGate.Linux.AfPacket;

// uapi/linux/if_packet.h: the TPACKET ring structures and the socket option values the rings use, names and layouts
// as in the header (tests/XdpGate.Linux.Tests compiles the header and compares).
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly

/// <summary>The #defines of if_packet.h (and ETH_P_ALL of if_ether.h) used here.</summary>
public static class if_packet
{
    public const int SOL_PACKET = 263;
    public const ushort ETH_P_ALL = 0x0003;

    // Socket options.
    public const int PACKET_ADD_MEMBERSHIP = 1;
    public const int PACKET_RX_RING = 5;
    public const int PACKET_STATISTICS = 6;
    public const int PACKET_VERSION = 10;
    public const int PACKET_RESERVE = 12;
    public const int PACKET_TX_RING = 13;
    public const int PACKET_LOSS = 14;
    public const int PACKET_FANOUT = 18;
    public const int PACKET_QDISC_BYPASS = 20;
    public const int PACKET_IGNORE_OUTGOING = 23;

    public const int PACKET_MR_PROMISC = 1;

    public const int PACKET_FANOUT_HASH = 0;
    public const int PACKET_FANOUT_CPU = 2;
    public const int PACKET_FANOUT_FLAG_DEFRAG = 0x8000;

    // enum tpacket_versions.
    public const int TPACKET_V2 = 1;
    public const int TPACKET_V3 = 2;

    // tp_status, RX: who owns the frame or block.
    public const uint TP_STATUS_KERNEL = 0;
    public const uint TP_STATUS_USER = 1 << 0;
    public const uint TP_STATUS_COPY = 1 << 1;
    public const uint TP_STATUS_LOSING = 1 << 2;

    // tp_status, TX.
    public const uint TP_STATUS_AVAILABLE = 0;
    public const uint TP_STATUS_SEND_REQUEST = 1 << 0;
    public const uint TP_STATUS_SENDING = 1 << 1;
    public const uint TP_STATUS_WRONG_FORMAT = 1 << 2;

    public const int TPACKET_ALIGNMENT = 16;

    /// <summary>TPACKET_ALIGN(x).</summary>
    public static int TPACKET_ALIGN(int x) => (x + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);
}

/// <summary>struct tpacket_req3: the geometry of a TPACKET_V3 ring, for PACKET_RX_RING and PACKET_TX_RING.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct tpacket_req3
{
    public uint tp_block_size;
    public uint tp_block_nr;
    public uint tp_frame_size;
    public uint tp_frame_nr;
    public uint tp_retire_blk_tov;
    public uint tp_sizeof_priv;
    public uint tp_feature_req_word;
}

/// <summary>struct tpacket_bd_ts (ts_usec and ts_nsec share the second field; TPACKET_V3 writes nanoseconds).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct tpacket_bd_ts
{
    public uint ts_sec;
    public uint ts_nsec;
}

/// <summary>struct tpacket_hdr_v1: a TPACKET_V3 block's header.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct tpacket_hdr_v1
{
    public uint block_status;
    public uint num_pkts;
    public uint offset_to_first_pkt;
    public uint blk_len;
    public ulong seq_num;
    public tpacket_bd_ts ts_first_pkt;
    public tpacket_bd_ts ts_last_pkt;
}

/// <summary>struct tpacket_block_desc, at the start of every TPACKET_V3 block (hdr is union tpacket_bd_header_u, whose one member is bh1).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct tpacket_block_desc
{
    public uint version;
    public uint offset_to_priv;
    public tpacket_hdr_v1 hdr;
}

/// <summary>struct tpacket_hdr_variant1.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct tpacket_hdr_variant1
{
    public uint tp_rxhash;
    public uint tp_vlan_tci;
    public ushort tp_vlan_tpid;
    public ushort tp_padding;
}

/// <summary>struct tpacket3_hdr: one packet in a TPACKET_V3 block (RX) or one frame slot of a TPACKET_V3 TX ring.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct tpacket3_hdr
{
    public uint tp_next_offset;
    public uint tp_sec;
    public uint tp_nsec;
    public uint tp_snaplen;
    public uint tp_len;
    public uint tp_status;
    public ushort tp_mac;
    public ushort tp_net;
    public tpacket_hdr_variant1 hv1;
    public fixed byte tp_padding[8];
}

/// <summary>struct tpacket_stats_v3: PACKET_STATISTICS of a TPACKET_V3 socket (reading resets the counters).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct tpacket_stats_v3
{
    public uint tp_packets;
    public uint tp_drops;
    public uint tp_freeze_q_cnt;
}

/// <summary>struct packet_mreq: PACKET_ADD_MEMBERSHIP's argument.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct packet_mreq
{
    public int mr_ifindex;
    public ushort mr_type;
    public ushort mr_alen;
    public fixed byte mr_address[8];
}

/// <summary>struct sockaddr_ll: the address AF_PACKET sockets bind to.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct sockaddr_ll
{
    public ushort sll_family;
    public ushort sll_protocol;
    public int sll_ifindex;
    public ushort sll_hatype;
    public byte sll_pkttype;
    public byte sll_halen;
    public fixed byte sll_addr[8];
}
#pragma warning restore CA1707, IDE1006
