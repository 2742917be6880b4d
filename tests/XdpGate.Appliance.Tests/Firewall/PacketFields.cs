using System.Buffers.Binary;
using XdpGate.Appliance.Builtins.Firewall;

namespace XdpGate.Appliance.Tests.Firewall;

/// <summary>
/// The fields a firewall rule looks at, or why the packet has none (<see cref="Problem"/>: non-IP, truncated, bad
/// header, bad extension chain, fragment). Ports are <see cref="FirewallLayout.FW_PORT_NONE"/> for packets that are
/// neither TCP nor UDP, flags <see cref="FirewallLayout.FW_FLAGS_NONE"/> for non-TCP, VLAN
/// <see cref="FirewallLayout.FW_VLAN_NONE"/> for untagged frames.
/// </summary>
internal readonly record struct PacketFields(
    fw_stat? Problem, bool IsV6, UInt128 Source, UInt128 Destination, int Protocol, int SourcePort, int DestinationPort,
    int TcpFlags, int Vlan)
{
    private const int EthHeader = 14;
    private const ushort EthIp = 0x0800, EthIpv6 = 0x86dd, Eth8021Q = 0x8100, Eth8021AD = 0x88a8;
    private const int HopByHop = 0, Tcp = 6, Udp = 17, Routing = 43, Fragment = 44, Ah = 51, DestOptions = 60;

    private static PacketFields Unparsed(fw_stat why) => new(why, false, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Parses a frame the way the documented rule in firewall.c says, written for plainness, not speed.</summary>
    public static PacketFields Parse(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < EthHeader)
            return Unparsed(fw_stat.FW_STAT_TRUNCATED);
        var etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        var offset = EthHeader;
        var vlan = FirewallLayout.FW_VLAN_NONE;
        for (var tags = 0; tags < 2 && etherType is Eth8021Q or Eth8021AD; tags++)
        {
            if (frame.Length < offset + 4)
                return Unparsed(fw_stat.FW_STAT_TRUNCATED);
            if (vlan == FirewallLayout.FW_VLAN_NONE)
                vlan = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]) & 0x0fff;
            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[(offset + 2)..]);
            offset += 4;
        }

        bool isV6;
        UInt128 source, destination;
        int protocol;
        if (etherType == EthIp)
        {
            if (frame.Length < offset + 20)
                return Unparsed(fw_stat.FW_STAT_TRUNCATED);
            var ip = frame[offset..];
            var headerLength = (ip[0] & 0x0f) * 4;
            if (ip[0] >> 4 != 4 || headerLength < 20)
                return Unparsed(fw_stat.FW_STAT_BAD_HEADER);
            if (ip.Length < headerLength)
                return Unparsed(fw_stat.FW_STAT_TRUNCATED);
            var moreFragmentsOrOffset = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x3fff;
            if (moreFragmentsOrOffset != 0)
                return Unparsed(fw_stat.FW_STAT_FRAGMENT);
            isV6 = false;
            protocol = ip[9];
            source = BinaryPrimitives.ReadUInt32BigEndian(ip[12..]);
            destination = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
            offset += headerLength;
        }
        else if (etherType == EthIpv6)
        {
            if (frame.Length < offset + 40)
                return Unparsed(fw_stat.FW_STAT_TRUNCATED);
            var ip = frame[offset..];
            if (ip[0] >> 4 != 6)
                return Unparsed(fw_stat.FW_STAT_BAD_HEADER);
            isV6 = true;
            protocol = ip[6];
            source = BinaryPrimitives.ReadUInt128BigEndian(ip[8..]);
            destination = BinaryPrimitives.ReadUInt128BigEndian(ip[24..]);
            offset += 40;
            for (var seen = 0; IsExtensionHeader(protocol); seen++)
            {
                if (seen == FirewallLayout.FW_MAX_EXT_HEADERS)
                    return Unparsed(fw_stat.FW_STAT_BAD_EXT_CHAIN);
                if (protocol == Fragment)
                    return Unparsed(fw_stat.FW_STAT_FRAGMENT);
                if (protocol == HopByHop && seen > 0)
                    return Unparsed(fw_stat.FW_STAT_BAD_EXT_CHAIN);
                if (frame.Length < offset + 8)
                    return Unparsed(fw_stat.FW_STAT_TRUNCATED);
                var length = protocol == Ah ? (frame[offset + 1] + 2) * 4 : (frame[offset + 1] + 1) * 8;
                protocol = frame[offset];
                offset += length;
            }
        }
        else
        {
            return Unparsed(fw_stat.FW_STAT_NON_IP);
        }

        int sourcePort = FirewallLayout.FW_PORT_NONE, destinationPort = FirewallLayout.FW_PORT_NONE, flags = FirewallLayout.FW_FLAGS_NONE;
        if (protocol is Tcp or Udp)
        {
            if (frame.Length < offset + (protocol == Tcp ? 20 : 8))
                return Unparsed(fw_stat.FW_STAT_TRUNCATED);
            sourcePort = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
            destinationPort = BinaryPrimitives.ReadUInt16BigEndian(frame[(offset + 2)..]);
            if (protocol == Tcp)
                flags = frame[offset + 13];
        }
        return new PacketFields(null, isV6, source, destination, protocol, sourcePort, destinationPort, flags, vlan);
    }

    private static bool IsExtensionHeader(int protocol) => protocol is HopByHop or Routing or DestOptions or Ah or Fragment;
}
