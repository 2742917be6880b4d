using System.Runtime.InteropServices;

namespace XdpGate.Bpf.Xdp;

/// <summary>
/// A page-sized native frame holding one packet with XDP headroom and tailroom, for callers that have a packet
/// in managed memory (tests, `prog run`, pcap replay). Ring-backed frames build an <see cref="XdpContext"/> directly.
/// </summary>
public sealed unsafe class PacketBuffer : IDisposable
{
    private byte* frame;

    public PacketBuffer()
    {
        frame = (byte*)NativeMemory.AlignedAlloc(XdpLayout.FrameSize, 64);
        Reset(ReadOnlySpan<byte>.Empty);
    }

    public XdpContext Context;

    /// <summary>Puts <paramref name="packet"/> at the standard headroom with no metadata; throws if it cannot fit.</summary>
    public void Reset(ReadOnlySpan<byte> packet, uint ingressIfindex = 1, uint rxQueueIndex = 0)
    {
        ObjectDisposedException.ThrowIf(frame is null, this);
        if (packet.Length > XdpLayout.MaxPacketSize)
            throw new ArgumentException($"packet is {packet.Length} bytes; a frame holds at most {XdpLayout.MaxPacketSize}", nameof(packet));
        // A fresh, zeroed frame for every packet, as BPF_PROG_TEST_RUN gives: bytes a program exposes with
        // adjust_head or adjust_meta read as zero instead of leftovers of the previous packet.
        NativeMemory.Clear(frame, XdpLayout.FrameSize);
        var data = frame + XdpLayout.XDP_PACKET_HEADROOM;
        packet.CopyTo(new Span<byte>(data, packet.Length));
        Context = new XdpContext
        {
            HardStart = frame,
            Data = data,
            DataEnd = data + packet.Length,
            DataMeta = data,
            FrameSize = XdpLayout.FrameSize,
            IngressIfindex = ingressIfindex,
            RxQueueIndex = rxQueueIndex,
        };
    }

    /// <summary>The bytes from data_meta to data_end, as BPF_PROG_TEST_RUN reports data_out.</summary>
    public byte[] ToArrayWithMetadata() => new ReadOnlySpan<byte>(Context.DataMeta, (int)(Context.DataEnd - Context.DataMeta)).ToArray();

    public void Dispose()
    {
        if (frame is not null)
        {
            NativeMemory.AlignedFree(frame);
            frame = null;
        }
    }
}
