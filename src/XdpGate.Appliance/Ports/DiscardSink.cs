using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Ports;

/// <summary>A wire that takes every frame that fits and keeps none: the TX side of in-memory ports, and their host stack.</summary>
public sealed class DiscardSink : IFrameSink
{
    public static DiscardSink Instance { get; } = new();

    private DiscardSink()
    {
    }

    public TxStatus TransmitCopy(ReadOnlySpan<byte> packet) => packet.Length > XdpLayout.MaxPacketSize ? TxStatus.TooLarge : TxStatus.Sent;

    public void Flush()
    {
    }
}
