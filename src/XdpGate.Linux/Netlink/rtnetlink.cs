using System.Runtime.InteropServices;

namespace XdpGate.Linux.Netlink;

// uapi/linux/netlink.h, rtnetlink.h and if_link.h: the structs and numbers of the link messages used here, names and
// layouts as in the headers (tests/XdpGate.Linux.Tests compiles the headers and compares).
#pragma warning disable CA1707, IDE1006, CS8981 // kernel names kept exactly

/// <summary>The #defines and enum values of netlink.h used here.</summary>
public static class netlink
{
    public const int NETLINK_ROUTE = 0;
    public const int SOL_NETLINK = 270;
    public const int NETLINK_EXT_ACK = 11;

    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;

    public const ushort NLM_F_REQUEST = 0x01;
    public const ushort NLM_F_ACK = 0x04;
    public const ushort NLM_F_CAPPED = 0x100;
    public const ushort NLM_F_ACK_TLVS = 0x200;

    public const ushort NLA_F_NESTED = 1 << 15;
    public const int NLA_HDRLEN = 4;
    public const int NLMSG_ALIGNTO = 4;

    // enum nlmsgerr_attrs.
    public const ushort NLMSGERR_ATTR_MSG = 1;
    public const ushort NLMSGERR_ATTR_OFFS = 2;

    /// <summary>NLMSG_ALIGN(len) (NLA_ALIGN is the same rounding).</summary>
    public static int NLMSG_ALIGN(int length) => (length + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
}

/// <summary>The rtnetlink.h and if_link.h values used here.</summary>
public static class rtnetlink
{
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_SETLINK = 19;

    // enum IFLA_* (if_link.h).
    public const ushort IFLA_ADDRESS = 1;
    public const ushort IFLA_IFNAME = 3;
    public const ushort IFLA_MTU = 4;
    public const ushort IFLA_PROMISCUITY = 30;
    public const ushort IFLA_NUM_TX_QUEUES = 31;
    public const ushort IFLA_NUM_RX_QUEUES = 32;
    public const ushort IFLA_XDP = 43;

    // enum IFLA_XDP_*, nested in IFLA_XDP.
    public const ushort IFLA_XDP_FD = 1;
    public const ushort IFLA_XDP_ATTACHED = 2;
    public const ushort IFLA_XDP_FLAGS = 3;
    public const ushort IFLA_XDP_PROG_ID = 4;
    public const ushort IFLA_XDP_DRV_PROG_ID = 5;
    public const ushort IFLA_XDP_SKB_PROG_ID = 6;

    // XDP_FLAGS_*.
    public const uint XDP_FLAGS_UPDATE_IF_NOEXIST = 1u << 0;
    public const uint XDP_FLAGS_SKB_MODE = 1u << 1;
    public const uint XDP_FLAGS_DRV_MODE = 1u << 2;
    public const uint XDP_FLAGS_HW_MODE = 1u << 3;

    // enum XDP_ATTACHED_*.
    public const byte XDP_ATTACHED_NONE = 0;
    public const byte XDP_ATTACHED_DRV = 1;
    public const byte XDP_ATTACHED_SKB = 2;
    public const byte XDP_ATTACHED_HW = 3;
    public const byte XDP_ATTACHED_MULTI = 4;
}

/// <summary>struct nlmsghdr.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct nlmsghdr
{
    public uint nlmsg_len;
    public ushort nlmsg_type;
    public ushort nlmsg_flags;
    public uint nlmsg_seq;
    public uint nlmsg_pid;
}

/// <summary>struct nlmsgerr: the payload of NLMSG_ERROR (error 0 is an ack).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct nlmsgerr
{
    public int error;
    public nlmsghdr msg;
}

/// <summary>struct nlattr (struct rtattr has the same layout).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct nlattr
{
    public ushort nla_len;
    public ushort nla_type;
}

/// <summary>struct ifinfomsg: the fixed part of RTM_*LINK messages.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ifinfomsg
{
    public byte ifi_family;
    public byte __ifi_pad;
    public ushort ifi_type;
    public int ifi_index;
    public uint ifi_flags;
    public uint ifi_change;
}

/// <summary>struct sockaddr_nl.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct sockaddr_nl
{
    public ushort nl_family;
    public ushort nl_pad;
    public uint nl_pid;
    public uint nl_groups;
}
#pragma warning restore CA1707, IDE1006, CS8981
