using System.Buffers.Binary;

namespace XdpGate.Appliance.Tests.Firewall;

/// <summary>Builds Ethernet frames for firewall tests: IPv4/IPv6, TCP/UDP/other, VLAN tags, IPv6 extension headers.</summary>
internal static class FirewallPackets
{
    public const byte Tcp = 6, Udp = 17, Icmp = 1, HopByHop = 0, Routing = 43, Fragment = 44, Ah = 51, DestOptions = 60;

    public static byte[] Ipv4(string source, string destination, byte protocol, int sourcePort = 1000, int destinationPort = 80,
        byte tcpFlags = 0x02, int[]? vlans = null, int payload = 0) =>
        Frame(vlans, 0x0800, Ipv4Header(IpBytes(source), IpBytes(destination), protocol, L4(protocol, sourcePort, destinationPort, tcpFlags, payload)));

    public static byte[] Ipv6(string source, string destination, byte protocol, int sourcePort = 1000, int destinationPort = 80,
        byte tcpFlags = 0x02, int[]? vlans = null, byte[]? extensionHeaders = null, int payload = 0) =>
        Frame(vlans, 0x86dd, Ipv6Header(IpBytes(source), IpBytes(destination), protocol, extensionHeaders ?? [], L4(protocol, sourcePort, destinationPort, tcpFlags, payload)));

    public static byte[] IpBytes(string address) => System.Net.IPAddress.Parse(address).GetAddressBytes();

    public static byte[] Frame(int[]? vlans, ushort etherType, byte[] body)
    {
        var tags = vlans ?? [];
        var frame = new byte[14 + 4 * tags.Length + body.Length];
        for (var i = 0; i < 12; i++)
            frame[i] = (byte)(0x02 + i);
        var offset = 12;
        for (var i = 0; i < tags.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), i == 0 && tags.Length == 2 ? (ushort)0x88a8 : (ushort)0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset + 2), (ushort)(0x2000 | tags[i]));
            offset += 4;
        }
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), etherType);
        body.CopyTo(frame, offset + 2);
        return frame;
    }

    public static byte[] L4(byte protocol, int sourcePort, int destinationPort, byte tcpFlags, int payload)
    {
        var header = protocol switch { Tcp => 20, Udp => 8, _ => 8 };
        var l4 = new byte[header + payload];
        if (protocol is Tcp or Udp)
        {
            BinaryPrimitives.WriteUInt16BigEndian(l4, (ushort)sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), (ushort)destinationPort);
        }
        if (protocol == Tcp)
        {
            l4[12] = 0x50;
            l4[13] = tcpFlags;
        }
        return l4;
    }

    public static byte[] Ipv4Header(byte[] source, byte[] destination, byte protocol, byte[] l4)
    {
        var ip = new byte[20 + l4.Length];
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
        ip[8] = 64;
        ip[9] = protocol;
        source.CopyTo(ip, 12);
        destination.CopyTo(ip, 16);
        l4.CopyTo(ip, 20);
        return ip;
    }

    /// <summary><paramref name="extensionHeaders"/> lists the chain's next-header values; each header is 8 bytes (AH 12).</summary>
    public static byte[] Ipv6Header(byte[] source, byte[] destination, byte protocol, byte[] extensionHeaders, byte[] l4)
    {
        var chain = new List<byte>();
        for (var i = 0; i < extensionHeaders.Length; i++)
        {
            var next = i + 1 < extensionHeaders.Length ? extensionHeaders[i + 1] : protocol;
            var isAh = extensionHeaders[i] == Ah;
            var header = new byte[isAh ? 12 : 8];
            header[0] = next;
            header[1] = (byte)(isAh ? 1 : 0);
            chain.AddRange(header);
        }
        var ip = new byte[40 + chain.Count + l4.Length];
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), (ushort)(chain.Count + l4.Length));
        ip[6] = extensionHeaders.Length > 0 ? extensionHeaders[0] : protocol;
        ip[7] = 64;
        source.CopyTo(ip, 8);
        destination.CopyTo(ip, 24);
        chain.CopyTo(ip, 40);
        l4.CopyTo(ip, 40 + chain.Count);
        return ip;
    }
}
