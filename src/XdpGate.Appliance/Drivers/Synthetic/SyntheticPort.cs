using System.Diagnostics;
using System.Runtime.InteropServices;
using XdpGate.Appliance.Ports;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Drivers.Synthetic;

/// <summary>
/// A port with no interface behind it: every queue generates <see cref="SyntheticTraffic"/> frames in a reusable
/// ring of page-sized buffers, so the program's cost is measured with no sockets or copies. Transmitted frames
/// leave nowhere (the worker's counters record them); the pass target is such a sink too.
/// </summary>
public sealed class SyntheticPort : IPort
{
    private readonly SyntheticQueue[] queues;

    public SyntheticPort(string name, int ifindex, SyntheticTraffic traffic, PortOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(traffic);
        ArgumentNullException.ThrowIfNull(options);
        traffic.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Queues, 1);
        Name = name;
        Ifindex = ifindex;
        queues = new SyntheticQueue[options.Queues];
        for (var q = 0; q < queues.Length; q++)
            queues[q] = new SyntheticQueue(q, traffic, Share(traffic.Rate, q), traffic.Count is { } count ? Share(count, q) : long.MaxValue, Math.Min(options.RingSize, 512));
    }

    public string Name { get; }
    public int Ifindex { get; }
    public IReadOnlyList<IPortQueue> Queues => queues;

    /// <summary>Where PASS frames of this port go: nowhere (they are counted by the worker).</summary>
    public static IFrameSink HostSink { get; } = new DiscardSink();

    // Splits a port-wide total across queues so the queues add up to it exactly.
    private long Share(long total, int queue) => total / queues.Length + (queue < total % queues.Length ? 1 : 0);

    public void Dispose()
    {
        foreach (var queue in queues)
            queue.Dispose();
    }

    private sealed class DiscardSink : IFrameSink
    {
        public TxStatus TransmitCopy(ReadOnlySpan<byte> packet) => packet.Length > XdpLayout.MaxPacketSize ? TxStatus.TooLarge : TxStatus.Sent;
        public void Flush() { }
    }

    private sealed unsafe class SyntheticQueue : IPortQueue, IDisposable
    {
        private readonly byte* buffers;
        private readonly byte* templates;
        private readonly int slots;
        private readonly int size;
        private readonly int flows;
        private readonly long rate;
        private readonly long count;
        private readonly long started = Stopwatch.GetTimestamp();
        private int next;
        private int flow;
        private long generated;
        private int outstanding;

        public SyntheticQueue(int index, SyntheticTraffic traffic, long rate, long count, int slots)
        {
            QueueIndex = index;
            this.slots = slots;
            this.rate = rate;
            this.count = count;
            size = traffic.Size;
            flows = traffic.Flows;
            buffers = (byte*)NativeMemory.AlignedAlloc((nuint)slots * XdpLayout.FrameSize, 64);
            NativeMemory.Clear(buffers, (nuint)slots * XdpLayout.FrameSize);
            templates = (byte*)NativeMemory.AlignedAlloc((nuint)(flows * size), 64);
            for (var f = 0; f < flows; f++)
                traffic.Build(f, new Span<byte>(templates + f * size, size));
        }

        public int QueueIndex { get; }
        public int PollDescriptor => -1;
        public bool Exhausted => generated >= count;

        public int Receive(Span<PortFrame> frames)
        {
            var n = Math.Min(frames.Length, slots - outstanding);
            n = (int)Math.Min(n, count - generated);
            if (rate != 0)
                n = (int)Math.Min(n, Allowed());
            for (var i = 0; i < n; i++)
            {
                var start = buffers + (nint)next * XdpLayout.FrameSize;
                var data = start + XdpLayout.XDP_PACKET_HEADROOM;
                // The program may have rewritten the last frame in this slot: every frame starts from its template.
                Buffer.MemoryCopy(templates + flow * size, data, size, size);
                frames[i] = new PortFrame { HardStart = start, Data = data, Length = size, FrameSize = XdpLayout.FrameSize, Handle = (ulong)next };
                next = next + 1 == slots ? 0 : next + 1;
                flow = flow + 1 == flows ? 0 : flow + 1;
            }
            generated += n;
            outstanding += n;
            return n;
        }

        // Frames the rate allows by now, less those already generated.
        private long Allowed()
        {
            var elapsed = Stopwatch.GetElapsedTime(started).Ticks;
            return Math.Max(0, (long)((double)elapsed * rate / TimeSpan.TicksPerSecond) - generated);
        }

        public void Release(in PortFrame frame) => outstanding--;

        public TxStatus Transmit(in PortFrame frame)
        {
            if (frame.Length > XdpLayout.MaxPacketSize)
                return TxStatus.TooLarge;
            outstanding--;
            return TxStatus.Sent;
        }

        public TxStatus TransmitCopy(ReadOnlySpan<byte> packet) => packet.Length > XdpLayout.MaxPacketSize ? TxStatus.TooLarge : TxStatus.Sent;

        public void Flush() { }

        public RingStatistics ReadRingStatistics() => default;

        public void Dispose()
        {
            NativeMemory.AlignedFree(buffers);
            NativeMemory.AlignedFree(templates);
        }
    }
}
