using System.Buffers.Binary;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Drivers.Synthetic;

/// <summary>
/// What a synthetic port receives: Ethernet/IPv4/UDP frames of one size, cycling over <see cref="Flows"/> flows
/// from 198.18.0.0/16 to 198.19.0.1 (RFC 2544's benchmark range, never routed). Flow f has source address
/// 198.18.0.1 + f and source port 1024 + f, so flows differ in both the address and the 5-tuple hash.
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

    /// <summary>UDP destination port of every frame.</summary>
    public ushort DestinationPort { get; init; } = 9;

    public const int MinSize = XdpLayout.ETH_HLEN + 20 + 8;
    public const int MaxFlows = 65534;

    /// <summary>Throws with a message naming the bad option.</summary>
    public void Validate()
    {
        if (Size is < MinSize or > XdpLayout.MaxPacketSize)
            throw new ArgumentException($"--size {Size}: synthetic frames are {MinSize} (Ethernet+IPv4+UDP headers) to {XdpLayout.MaxPacketSize} bytes");
        if (Flows is < 1 or > MaxFlows)
            throw new ArgumentException($"--flows {Flows}: between 1 and {MaxFlows} (one source address each in 198.18.0.0/16)");
        if (Rate < 0)
            throw new ArgumentException($"--rate {Rate}: frames per second cannot be negative");
        if (Count is < 0)
            throw new ArgumentException($"--count {Count}: cannot be negative");
    }

    /// <summary>Writes flow <paramref name="flow"/>'s frame (exactly <see cref="Size"/> bytes) into <paramref name="frame"/>.</summary>
    public void Build(int flow, Span<byte> frame)
    {
        frame = frame[..Size];
        frame.Clear();
        // Locally administered MACs: 02:00:00:00:00:02 <- 02:00:00:00:00:01.
        frame[0] = 0x02; frame[5] = 0x02;
        frame[6] = 0x02; frame[11] = 0x01;
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], 0x0800);
        var ip = frame[14..34];
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Size - XdpLayout.ETH_HLEN));
        ip[8] = 64;
        ip[9] = 17;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], (198u << 24) | (18u << 16) | (uint)(flow + 1));
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], (198u << 24) | (19u << 16) | 1u);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Ipv4Checksum(ip));
        var udp = frame[34..];
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)(1024 + flow));
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(Size - 34));
        // UDP checksum 0: "none" is valid over IPv4, and keeps every flow's template a plain copy.
    }

    private static ushort Ipv4Checksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (var i = 0; i < header.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
