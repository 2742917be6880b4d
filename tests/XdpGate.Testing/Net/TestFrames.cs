using System.Buffers.Binary;

namespace XdpGate.Testing.Net;

/// <summary>
/// Ethernet + IPv4 + UDP frames for tests, with a tag in the payload so a test can pick its own frames out of
/// whatever else crosses the wire.
/// </summary>
public static class TestFrames
{
    public const int HeaderLength = 14 + 20 + 8;

    /// <summary>A UDP frame from <paramref name="sourcePort"/> carrying <paramref name="tag"/> (8 bytes) then zeros up to <paramref name="size"/> bytes.</summary>
    public static byte[] Udp(byte[] destinationMac, byte[] sourceMac, string sourceIp, string destinationIp, ushort sourcePort, ulong tag, int size = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, HeaderLength + 8);
        var frame = new byte[size];
        destinationMac.CopyTo(frame, 0);
        sourceMac.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
        var ip = frame.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(size - 14));
        ip[8] = 64;
        ip[9] = 17;
        System.Net.IPAddress.Parse(sourceIp).GetAddressBytes().CopyTo(ip[12..]);
        System.Net.IPAddress.Parse(destinationIp).GetAddressBytes().CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum(ip[..20]));
        var udp = ip[20..];
        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 9);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(size - 34));
        BinaryPrimitives.WriteUInt64BigEndian(udp[8..], tag);
        return frame;
    }

    /// <summary>The tag of a frame <see cref="Udp"/> built, or null for any other frame.</summary>
    public static ulong? Tag(ReadOnlySpan<byte> frame) =>
        frame.Length >= HeaderLength + 8 && BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == 0x0800 && frame[23] == 17
            ? BinaryPrimitives.ReadUInt64BigEndian(frame[HeaderLength..])
            : null;

    /// <summary>A locally administered unicast MAC that no interface here has.</summary>
    public static byte[] ForeignMac { get; } = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30];

    private static ushort Checksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (var i = 0; i < header.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
