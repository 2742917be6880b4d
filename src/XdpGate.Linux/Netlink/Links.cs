using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using XdpGate.Uapi;
using static XdpGate.Linux.Netlink.netlink;
using static XdpGate.Linux.Netlink.rtnetlink;

namespace XdpGate.Linux.Netlink;

/// <summary>Where an XDP program runs on a link (IFLA_XDP_ATTACHED).</summary>
public enum XdpAttachMode
{
    None = XDP_ATTACHED_NONE,
    /// <summary>In the driver (native).</summary>
    Driver = XDP_ATTACHED_DRV,
    /// <summary>Generic XDP on the skb, for drivers without native support.</summary>
    Generic = XDP_ATTACHED_SKB,
    Hardware = XDP_ATTACHED_HW,
    Multiple = XDP_ATTACHED_MULTI,
}

/// <summary>What RTM_GETLINK says about a link.</summary>
public sealed record LinkInfo(int Ifindex, string Name, int Mtu, byte[] Address, int RxQueues, int TxQueues, int Promiscuity,
    XdpAttachMode XdpMode, uint XdpProgId);

/// <summary>rtnetlink link queries and XDP attach/detach, in the network namespace of the given socket.</summary>
public static class Links
{
    /// <summary>The link named <paramref name="name"/>; throws naming it when there is none.</summary>
    public static LinkInfo Get(RouteSocket socket, string name)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) >= 16)
            throw new ArgumentException($"interface name '{name}' is longer than IFNAMSIZ - 1 (15) bytes", nameof(name));
        return Query(socket, new NetlinkMessageBuilder(RTM_GETLINK, NLM_F_REQUEST).Append(new ifinfomsg()).Attribute(IFLA_IFNAME, name),
            $"interface '{name}'");
    }

    /// <summary>The link with index <paramref name="ifindex"/>.</summary>
    public static LinkInfo Get(RouteSocket socket, int ifindex)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifindex);
        return Query(socket, new NetlinkMessageBuilder(RTM_GETLINK, NLM_F_REQUEST).Append(new ifinfomsg { ifi_index = ifindex }),
            $"ifindex {ifindex}");
    }

    /// <summary>
    /// Attaches the XDP program <paramref name="progFd"/> in native mode, or in generic mode when the driver has none
    /// (EOPNOTSUPP) or <paramref name="allowNative"/> is false; with XDP_FLAGS_UPDATE_IF_NOEXIST, so a program already
    /// there (ours from a crashed run, or someone else's) is never replaced silently. Returns the mode used.
    /// </summary>
    public static XdpAttachMode AttachXdp(RouteSocket socket, int ifindex, int progFd, bool allowNative = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(progFd);
        if (allowNative)
        {
            try
            {
                SetXdp(socket, ifindex, progFd, XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_DRV_MODE, "attach XDP (native)");
                return XdpAttachMode.Driver;
            }
            catch (SyscallException e) when (e.Errno == Errno.EOPNOTSUPP)
            {
                // No native XDP in this driver: generic mode below.
            }
        }
        SetXdp(socket, ifindex, progFd, XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_SKB_MODE, "attach XDP (generic)");
        return XdpAttachMode.Generic;
    }

    /// <summary>Detaches the XDP program of <paramref name="mode"/> (fd -1); detaching where there is none is not an error.</summary>
    public static void DetachXdp(RouteSocket socket, int ifindex, XdpAttachMode mode)
    {
        var flags = mode switch
        {
            XdpAttachMode.Driver => XDP_FLAGS_DRV_MODE,
            XdpAttachMode.Generic => XDP_FLAGS_SKB_MODE,
            XdpAttachMode.Hardware => XDP_FLAGS_HW_MODE,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "detach needs the one mode the program runs in"),
        };
        SetXdp(socket, ifindex, -1, flags, $"detach XDP ({mode})");
    }

    private static void SetXdp(RouteSocket socket, int ifindex, int progFd, uint flags, string what)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifindex);
        var request = new NetlinkMessageBuilder(RTM_SETLINK, NLM_F_REQUEST)
            .Append(new ifinfomsg { ifi_family = 0, ifi_index = ifindex })
            .BeginNested(IFLA_XDP)
            .Attribute(IFLA_XDP_FD, progFd)
            .Attribute(IFLA_XDP_FLAGS, flags)
            .EndNested();
        socket.Request(request, $"{what} on ifindex {ifindex}, prog fd {progFd}, flags 0x{flags:x}");
    }

    private static LinkInfo Query(RouteSocket socket, NetlinkMessageBuilder request, string what)
    {
        foreach (var (type, payload) in socket.Request(request, $"RTM_GETLINK {what}"))
        {
            if (type != RTM_NEWLINK || payload.Length < Marshal.SizeOf<ifinfomsg>())
                continue;
            var header = MemoryMarshal.Read<ifinfomsg>(payload);
            var attributes = NetlinkAttributes.Parse(payload.AsSpan(NLMSG_ALIGN(Marshal.SizeOf<ifinfomsg>())));
            var xdp = NetlinkAttributes.Find(attributes, IFLA_XDP) is { } nested ? NetlinkAttributes.Parse(nested) : [];
            return new LinkInfo(
                header.ifi_index,
                Encoding.UTF8.GetString(NetlinkAttributes.Find(attributes, IFLA_IFNAME) ?? []).TrimEnd('\0'),
                (int)U32(attributes, IFLA_MTU),
                NetlinkAttributes.Find(attributes, IFLA_ADDRESS) ?? [],
                (int)U32(attributes, IFLA_NUM_RX_QUEUES),
                (int)U32(attributes, IFLA_NUM_TX_QUEUES),
                (int)U32(attributes, IFLA_PROMISCUITY),
                (XdpAttachMode)(NetlinkAttributes.Find(xdp, IFLA_XDP_ATTACHED) is [var mode, ..] ? mode : XDP_ATTACHED_NONE),
                U32(xdp, IFLA_XDP_PROG_ID));
        }
        throw new InvalidDataException($"RTM_GETLINK {what}: the kernel answered without a link");
    }

    private static uint U32(List<(ushort Type, byte[] Payload)> attributes, ushort type) =>
        NetlinkAttributes.Find(attributes, type) is { Length: >= 4 } payload ? BinaryPrimitives.ReadUInt32LittleEndian(payload) : 0;
}
