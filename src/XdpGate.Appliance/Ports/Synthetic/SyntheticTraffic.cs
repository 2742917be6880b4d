using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Ports.Synthetic;

/// <summary>
/// Benchmark traffic: Ethernet/IPv4/UDP or Ethernet/IPv6/UDP frames of one size, cycling over <see cref="Flows"/>
/// flows. Flow f comes from <see cref="Source"/> + f and source port 1024 + f, so flows differ in both the address
/// and the 5-tuple hash. Addresses must lie in the benchmark ranges (198.18.0.0/15, RFC 2544; 2001:2::/48,
/// RFC 5180), which are never routed: generated traffic cannot leak anywhere real.
/// </summary>
public sealed record SyntheticTraffic
{
    /// <summary>Ethernet header to the end of the payload, without the FCS (60 is the minimum Ethernet frame less FCS).</summary>
    public int Size { get; init; } = 60;

    public int Flows { get; init; } = 1;

    /// <summary>Frames per second over the whole port, 0 for as fast as the workers take them.</summary>
    public long Rate { get; init; }

    /// <summary>Frames the port delivers in all (0: a port that only transmits), null for no end.</summary>
    public long? Count { get; init; }

    public IPAddress Source { get; init; } = IPAddress.Parse("198.18.0.1");
    public IPAddress Destination { get; init; } = IPAddress.Parse("198.19.0.1");
    public ushort DestinationPort { get; init; } = 9;

    /// <summary>Locally administered defaults: 02:00:00:00:00:01 to 02:00:00:00:00:02.</summary>
    public byte[] SourceMac { get; init; } = [0x02, 0, 0, 0, 0, 0x01];
    public byte[] DestinationMac { get; init; } = [0x02, 0, 0, 0, 0, 0x02];

    public const int MaxFlows = 65534;

    private bool IsIPv6 => Source.AddressFamily == AddressFamily.InterNetworkV6;
    private int NetworkHeader => IsIPv6 ? 40 : 20;

    /// <summary>The smallest frame of this address family: Ethernet, IP and UDP headers.</summary>
    public int MinSize => XdpLayout.ETH_HLEN + NetworkHeader + 8;

    /// <summary>Throws with a message naming the bad option.</summary>
    public void Validate()
    {
        if (Flows is < 1 or > MaxFlows)
            throw new ArgumentException($"--flows {Flows}: between 1 and {MaxFlows}");
        if (Source.AddressFamily != Destination.AddressFamily)
            throw new ArgumentException($"--src {Source} and --dst {Destination}: one address family for both");
        RequireBenchmarkRange("--src", Source, Flows);
        RequireBenchmarkRange("--dst", Destination, 1);
        if (Size < MinSize || Size > XdpLayout.MaxPacketSize)
            throw new ArgumentException($"--size {Size}: frames are {MinSize} (Ethernet+IP+UDP headers) to {XdpLayout.MaxPacketSize} bytes");
        if (Rate < 0)
            throw new ArgumentException($"--rate {Rate}: frames per second cannot be negative");
        if (Count is < 0)
            throw new ArgumentException($"--count {Count}: cannot be negative");
        if (SourceMac.Length != 6 || DestinationMac.Length != 6)
            throw new ArgumentException("a MAC address is 6 bytes");
    }

    /// <summary>Refuses an address (and the <paramref name="span"/> addresses from it) outside 198.18.0.0/15 or 2001:2::/48.</summary>
    private static void RequireBenchmarkRange(string option, IPAddress first, int span)
    {
        var bytes = first.GetAddressBytes();
        bool inside;
        if (bytes.Length == 4)
        {
            var value = BinaryPrimitives.ReadUInt32BigEndian(bytes);
            inside = (value & 0xfffe0000) == 0xc6120000 && ((value + (uint)(span - 1)) & 0xfffe0000) == 0xc6120000;
        }
        else
        {
            inside = bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0 && bytes[3] == 0x02 && bytes[4] == 0 && bytes[5] == 0
                && BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(14)) + span - 1 <= 0xffff;
        }
        if (!inside)
            throw new ArgumentException($"{option} {first}: benchmark traffic stays in 198.18.0.0/15 or 2001:2::/48" + (span > 1 ? $" (with {span} flows counting up from it)" : ""));
    }

    /// <summary>Writes flow <paramref name="flow"/>'s frame (exactly <see cref="Size"/> bytes) into <paramref name="frame"/>.</summary>
    public void Build(int flow, Span<byte> frame)
    {
        frame = frame[..Size];
        frame.Clear();
        DestinationMac.CopyTo(frame);
        SourceMac.CopyTo(frame[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], IsIPv6 ? (ushort)0x86dd : (ushort)0x0800);
        var ip = frame[XdpLayout.ETH_HLEN..];
        var source = Source.GetAddressBytes();
        var last = source.Length - 2;
        BinaryPrimitives.WriteUInt16BigEndian(source.AsSpan(last), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(source.AsSpan(last)) + flow));
        var udp = ip[NetworkHeader..];
        var udpLength = (ushort)(Size - XdpLayout.ETH_HLEN - NetworkHeader);
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)(1024 + flow));
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], udpLength);
        if (IsIPv6)
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], udpLength);
            ip[6] = 17;
            ip[7] = 64;
            source.CopyTo(ip[8..]);
            Destination.GetAddressBytes().CopyTo(ip[24..]);
            // UDP over IPv6 must carry a checksum (RFC 8200), over the pseudo-header and the datagram.
            var sum = Sum(ip[8..40]) + udpLength + 17u + Sum(udp[..udpLength]);
            var checksum = Fold(sum);
            BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum == 0 ? (ushort)0xffff : checksum);
        }
        else
        {
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Size - XdpLayout.ETH_HLEN));
            ip[8] = 64;
            ip[9] = 17;
            source.CopyTo(ip[12..]);
            Destination.GetAddressBytes().CopyTo(ip[16..]);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Fold(Sum(ip[..20])));
            // UDP checksum 0: "none" is valid over IPv4.
        }
    }

    private static uint Sum(ReadOnlySpan<byte> bytes)
    {
        uint sum = 0;
        for (var i = 0; i + 1 < bytes.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(bytes[i..]);
        if ((bytes.Length & 1) != 0)
            sum += (uint)bytes[^1] << 8;
        return sum;
    }

    private static ushort Fold(uint sum)
    {
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
