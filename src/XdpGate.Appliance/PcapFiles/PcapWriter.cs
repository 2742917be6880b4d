using System.Buffers.Binary;

namespace XdpGate.Appliance.PcapFiles;

/// <summary>Writes a microsecond, little-endian, Ethernet pcap file, the form every tool reads.</summary>
public sealed class PcapWriter : IDisposable
{
    private readonly Stream stream;
    private readonly byte[] header = new byte[PcapFormat.RecordHeaderSize];

    public PcapWriter(Stream stream, int snapLength = 65535)
    {
        ArgumentNullException.ThrowIfNull(stream);
        this.stream = stream;
        Span<byte> file = stackalloc byte[PcapFormat.FileHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(file, PcapFormat.MagicMicroseconds);
        BinaryPrimitives.WriteUInt16LittleEndian(file[4..], PcapFormat.VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(file[6..], PcapFormat.VersionMinor);
        BinaryPrimitives.WriteUInt32LittleEndian(file[16..], (uint)snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(file[20..], PcapFormat.LinkTypeEthernet);
        stream.Write(file);
    }

    public void Write(DateTimeOffset timestamp, ReadOnlySpan<byte> packet)
    {
        var sinceEpoch = timestamp - DateTimeOffset.UnixEpoch;
        var seconds = (uint)(sinceEpoch.Ticks / TimeSpan.TicksPerSecond);
        var microseconds = (uint)(sinceEpoch.Ticks % TimeSpan.TicksPerSecond / 10);
        BinaryPrimitives.WriteUInt32LittleEndian(header, seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), microseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)packet.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), (uint)packet.Length);
        stream.Write(header);
        stream.Write(packet);
    }

    public void Dispose() => stream.Flush();
}
