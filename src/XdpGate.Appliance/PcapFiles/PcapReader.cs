using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace XdpGate.Appliance.PcapFiles;

/// <summary>
/// Reads a pcap stream record by record through a <see cref="PipeReader"/>, so a large capture streams through a
/// bounded buffer instead of being read whole. Both byte orders and both timestamp resolutions are accepted.
/// </summary>
public static class PcapReader
{
    public static async IAsyncEnumerable<PcapRecord> ReadAsync(Stream stream, string name, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        try
        {
            var header = await ReadExactlyAsync(reader, PcapFormat.FileHeaderSize, $"{name}: file header", cancellation).ConfigureAwait(false)
                ?? throw new PcapFormatException($"{name}: empty; a pcap file starts with a {PcapFormat.FileHeaderSize}-byte header");
            var (bigEndian, nanoseconds, linkType) = ParseFileHeader(name, header);
            if (linkType != PcapFormat.LinkTypeEthernet)
                throw new PcapFormatException($"{name}: link type {linkType} is not Ethernet (1); XDP programs see Ethernet frames");

            long offset = PcapFormat.FileHeaderSize;
            for (long index = 0; ; index++)
            {
                var where = $"{name}: record {index} at byte {offset}";
                var recordHeader = await ReadExactlyAsync(reader, PcapFormat.RecordHeaderSize, $"{where}: record header", cancellation).ConfigureAwait(false);
                if (recordHeader is null)
                    yield break;
                var seconds = Read(recordHeader, 0, bigEndian);
                var fraction = Read(recordHeader, 4, bigEndian);
                var captured = Read(recordHeader, 8, bigEndian);
                var original = Read(recordHeader, 12, bigEndian);
                if (captured > PcapFormat.MaxRecordSize)
                    throw new PcapFormatException($"{where}: captured length {captured} exceeds {PcapFormat.MaxRecordSize}; the file is corrupt");
                var data = captured == 0 ? [] : await ReadExactlyAsync(reader, (int)captured, $"{where}: packet data", cancellation).ConfigureAwait(false)
                    ?? throw new PcapFormatException($"{where}: the file ends before the record's {captured} bytes");
                var ticks = nanoseconds ? fraction / 100 : fraction * 10L;
                var timestamp = DateTimeOffset.UnixEpoch.AddSeconds(seconds).AddTicks(ticks);
                yield return new PcapRecord(index, timestamp, (int)Math.Max(original, captured), data);
                offset += PcapFormat.RecordHeaderSize + captured;
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static (bool BigEndian, bool Nanoseconds, uint LinkType) ParseFileHeader(string name, byte[] header)
    {
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var (bigEndian, nanoseconds) = magic switch
        {
            PcapFormat.MagicMicroseconds => (false, false),
            PcapFormat.MagicNanoseconds => (false, true),
            _ when BinaryPrimitives.ReverseEndianness(magic) == PcapFormat.MagicMicroseconds => (true, false),
            _ when BinaryPrimitives.ReverseEndianness(magic) == PcapFormat.MagicNanoseconds => (true, true),
            PcapFormat.PcapNgSectionHeader => throw new PcapFormatException($"{name}: pcapng files are not supported; convert with 'tcpdump -r {name} -w out.pcap'"),
            _ => throw new PcapFormatException($"{name}: not a pcap file (magic 0x{magic:x8})"),
        };
        return (bigEndian, nanoseconds, Read(header, 20, bigEndian));
    }

    private static uint Read(byte[] bytes, int offset, bool bigEndian) => bigEndian
        ? BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset))
        : BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));

    /// <summary>Exactly <paramref name="count"/> bytes, or null at a clean end of stream; an end part-way is a format error.</summary>
    private static async ValueTask<byte[]?> ReadExactlyAsync(PipeReader reader, int count, string what, CancellationToken cancellation)
    {
        while (true)
        {
            var result = await reader.ReadAtLeastAsync(count, cancellation).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= count)
            {
                var bytes = buffer.Slice(0, count).ToArray();
                reader.AdvanceTo(buffer.GetPosition(count));
                return bytes;
            }
            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                return buffer.Length == 0 ? null : throw new PcapFormatException($"{what}: the file ends after {buffer.Length} of its {count} bytes");
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
