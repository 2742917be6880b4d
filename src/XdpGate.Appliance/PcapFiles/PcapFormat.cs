namespace XdpGate.Appliance.PcapFiles;

/// <summary>The classic libpcap file format (not pcapng): a 24-byte file header, then 16-byte record headers.</summary>
public static class PcapFormat
{
    public const uint MagicMicroseconds = 0xa1b2c3d4;
    public const uint MagicNanoseconds = 0xa1b23c4d;
    public const uint PcapNgSectionHeader = 0x0a0d0d0a;
    public const int FileHeaderSize = 24;
    public const int RecordHeaderSize = 16;
    public const ushort VersionMajor = 2;
    public const ushort VersionMinor = 4;

    /// <summary>LINKTYPE_ETHERNET, the only link type XDP programs see.</summary>
    public const uint LinkTypeEthernet = 1;

    /// <summary>Larger records than this are corruption, not packets (libpcap's own sanity limit is 256 KiB).</summary>
    public const int MaxRecordSize = 256 * 1024;
}

/// <summary>One captured packet.</summary>
public sealed record PcapRecord(long Index, DateTimeOffset Timestamp, int OriginalLength, byte[] Data);

/// <summary>A pcap file that cannot be read; the message names the record and byte offset.</summary>
public sealed class PcapFormatException(string message) : Exception(message);
