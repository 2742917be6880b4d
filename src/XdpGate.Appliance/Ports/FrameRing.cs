using System.Runtime.InteropServices;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Ports;

/// <summary>
/// The buffers of an in-memory queue: page-sized frames handed out in turn with the kernel's XDP headroom and
/// tailroom, each reused once the worker gives it back. Frames come back within the batch that took them, so
/// a count of outstanding frames is all the bookkeeping needed.
/// </summary>
internal sealed unsafe class FrameRing : IDisposable
{
    private byte* buffers;
    private readonly int slots;
    private int next;
    private int outstanding;

    public FrameRing(int slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        this.slots = slots;
        buffers = (byte*)NativeMemory.AlignedAlloc((nuint)slots * XdpLayout.FrameSize, 64);
        NativeMemory.Clear(buffers, (nuint)slots * XdpLayout.FrameSize);
    }

    /// <summary>Frames that can be handed out now.</summary>
    public int Available => slots - outstanding;

    /// <summary>
    /// Puts into <paramref name="frame"/> the next free buffer, holding a copy of <paramref name="length"/> bytes at
    /// <paramref name="packet"/>; the caller checked <see cref="Available"/>. With <paramref name="clear"/> the rest of
    /// the buffer is zeroed first, so bytes a program exposes with adjust_head/tail read as zero (as in
    /// BPF_PROG_TEST_RUN) rather than as the last frame's.
    /// </summary>
    public void Take(ref PortFrame frame, byte* packet, int length, bool clear)
    {
        var start = buffers + (nint)next * XdpLayout.FrameSize;
        var data = start + XdpLayout.XDP_PACKET_HEADROOM;
        if (clear)
            NativeMemory.Clear(start, XdpLayout.FrameSize);
        Buffer.MemoryCopy(packet, data, length, length);
        frame.Set(start, data, length, XdpLayout.FrameSize, (ulong)next);
        next = next + 1 == slots ? 0 : next + 1;
        outstanding++;
    }

    /// <summary>Frames came back (recycled, or sent and no longer needed).</summary>
    public void Return(int frames) => outstanding -= frames;

    public void Dispose()
    {
        if (buffers is not null)
        {
            NativeMemory.AlignedFree(buffers);
            buffers = null;
        }
    }
}
