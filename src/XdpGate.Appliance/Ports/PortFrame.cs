using System.Runtime.CompilerServices;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Ports;

/// <summary>
/// One received frame, in place in the port's ring memory, as the program sees it: <see cref="Xdp"/> is the
/// kernel's xdp_buff, and the worker runs the program on it where it lies, with no copy in or out. The buffer starts
/// at xdp.HardStart with at least <see cref="XdpLayout.XDP_PACKET_HEADROOM"/> bytes in front of data (so
/// bpf_xdp_adjust_head can grow the frame) and runs for xdp.FrameSize bytes, of which the last
/// <see cref="XdpLayout.SkbSharedInfoSize"/> stay reserved as in the kernel (so bpf_xdp_adjust_tail can grow up to
/// that point). A port writes the buffer's fields in <see cref="IPortQueue.Receive"/> (<see cref="Set"/>); the worker
/// owns the rest: the receive queue's fields (xdp.IngressIfindex, xdp.RxQueueIndex), written once, and the
/// <see cref="Fate"/> the port carries out in <see cref="IPortQueue.Complete"/>.
/// </summary>
public unsafe struct PortFrame
{
    /// <summary>The frame as the program runs on it: the data pointers move when a helper moves them.</summary>
    public XdpContext Xdp;

    /// <summary>The port's own handle for the buffer (a UMEM address, a ring slot); opaque to workers.</summary>
    public ulong Handle;

    /// <summary>What the queue does with the frame when the batch is complete; <see cref="FrameFate.Recycle"/> on receive.</summary>
    public FrameFate Fate;

    /// <summary>A received frame: <paramref name="length"/> bytes at <paramref name="data"/> in a buffer of <paramref name="frameSize"/> bytes from <paramref name="hardStart"/>, no metadata.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Set(byte* hardStart, byte* data, int length, uint frameSize, ulong handle)
    {
        Xdp.HardStart = hardStart;
        Xdp.Data = data;
        Xdp.DataEnd = data + length;
        Xdp.DataMeta = data;
        Xdp.FrameSize = frameSize;
        Handle = handle;
        Fate = FrameFate.Recycle;
    }

    /// <summary>First byte of the packet (the program may have moved it).</summary>
    public readonly byte* Data => Xdp.Data;

    /// <summary>Packet length in bytes (data_end - data).</summary>
    public readonly int Length => Xdp.Length;

    public readonly ReadOnlySpan<byte> Packet => new(Xdp.Data, Xdp.Length);
}

/// <summary>What becomes of a received frame once the program has run, carried out by its queue for the whole batch at once.</summary>
public enum FrameFate : byte
{
    /// <summary>Back to the kernel's fill side: XDP_DROP, and every frame that leaves by a copy or not at all.</summary>
    Recycle = 0,

    /// <summary>Out of the same port, in place, from its current data and length: XDP_TX, or a redirect to the ingress port.</summary>
    Transmit,
}

/// <summary>What became of the in-place transmissions of one batch (<see cref="IPortQueue.Complete"/>), for the worker's counters.</summary>
public struct TransmitTally
{
    public int Sent;
    public long SentBytes;
    public int RingFull;
    public int TooLarge;
    public int Errors;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(TxStatus status, int length)
    {
        switch (status)
        {
            case TxStatus.Sent:
                Sent++;
                SentBytes += length;
                break;
            case TxStatus.RingFull:
                RingFull++;
                break;
            case TxStatus.TooLarge:
                TooLarge++;
                break;
            default:
                Errors++;
                break;
        }
    }
}
