using XdpGate.Appliance.PcapFiles;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Ports.Pcap;

/// <summary>A wire that records: every frame it takes is appended to a capture file (the pcap port's TX and host stack).</summary>
public sealed class PcapFileSink : IFrameSink, IDisposable
{
    private readonly FileStream file;
    private readonly PcapWriter writer;

    public PcapFileSink(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
        file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024);
        writer = new PcapWriter(file);
    }

    public string Path { get; }

    /// <summary>Frames written so far.</summary>
    public long Frames { get; private set; }

    public TxStatus TransmitCopy(ReadOnlySpan<byte> packet)
    {
        if (packet.Length > XdpLayout.MaxPacketSize)
            return TxStatus.TooLarge;
        writer.Write(DateTimeOffset.UtcNow, packet);
        Frames++;
        return TxStatus.Sent;
    }

    /// <summary>Batches stay in the stream's buffer; the file is complete once the sink is disposed.</summary>
    public void Flush()
    {
    }

    public void Dispose()
    {
        writer.Dispose();
        file.Dispose();
    }
}
