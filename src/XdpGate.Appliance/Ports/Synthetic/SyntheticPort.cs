using System.Diagnostics;
using System.Runtime.InteropServices;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Ports.Synthetic;

/// <summary>
/// A port with no interface behind it: every queue generates <see cref="SyntheticTraffic"/> frames in a reusable
/// ring of page-sized buffers, so the program's cost is measured with no sockets or copies. Transmitted frames
/// leave nowhere (the worker's counters record them), and so do frames passed to its host stack (<see cref="DiscardSink"/>).
/// </summary>
public sealed class SyntheticPort : IPort, IHostStackPort
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
            queues[q] = new SyntheticQueue(q, traffic, Share(traffic.Rate, q), traffic.Count is { } count ? Share(count, q) : long.MaxValue, Math.Min(options.RingSize, 128));
    }

    public string Name { get; }
    public int Ifindex { get; }
    public IReadOnlyList<IPortQueue> Queues => queues;

    public IFrameSink HostStack(int queue) => DiscardSink.Instance;

    // Splits a port-wide total across queues so the queues add up to it exactly.
    private long Share(long total, int queue) => total / queues.Length + (queue < total % queues.Length ? 1 : 0);

    public void Dispose()
    {
        foreach (var queue in queues)
            queue.Dispose();
    }

    private sealed unsafe class SyntheticQueue : IPortQueue, IDisposable
    {
        private readonly FrameRing ring;
        private readonly byte* templates;
        private readonly int size;
        private readonly int flows;
        private readonly long rate;
        private readonly long count;
        private readonly long started = Stopwatch.GetTimestamp();
        private int flow;
        private long generated;

        public SyntheticQueue(int index, SyntheticTraffic traffic, long rate, long count, int slots)
        {
            QueueIndex = index;
            this.rate = rate;
            this.count = count;
            size = traffic.Size;
            flows = traffic.Flows;
            ring = new FrameRing(slots);
            templates = (byte*)NativeMemory.AlignedAlloc((nuint)(flows * size), 64);
            for (var f = 0; f < flows; f++)
                traffic.Build(f, new Span<byte>(templates + f * size, size));
        }

        public int QueueIndex { get; }
        public int PollDescriptor => -1;
        public bool Exhausted => generated >= count;

        public int Receive(Span<PortFrame> frames)
        {
            var n = Math.Min(frames.Length, ring.Available);
            n = (int)Math.Min(n, count - generated);
            if (rate != 0)
                n = (int)Math.Min(n, Allowed());
            for (var i = 0; i < n; i++)
            {
                // The program may have rewritten the last frame in this slot: every frame starts from its template.
                ring.Take(ref frames[i], templates + flow * size, size, clear: false);
                flow = flow + 1 == flows ? 0 : flow + 1;
            }
            generated += n;
            return n;
        }

        // Frames the rate allows by now, less those already generated.
        private long Allowed()
        {
            var elapsed = Stopwatch.GetElapsedTime(started).Ticks;
            return Math.Max(0, (long)((double)elapsed * rate / TimeSpan.TicksPerSecond) - generated);
        }

        // Transmitted frames leave nowhere, so every frame's buffer is free again once the batch is complete.
        public void Complete(Span<PortFrame> frames, ref TransmitTally tally)
        {
            for (var i = 0; i < frames.Length; i++)
            {
                ref var frame = ref frames[i];
                if (frame.Fate == FrameFate.Transmit)
                    tally.Add(frame.Length > XdpLayout.MaxPacketSize ? TxStatus.TooLarge : TxStatus.Sent, frame.Length);
            }
            ring.Return(frames.Length);
        }

        public TxStatus TransmitCopy(ReadOnlySpan<byte> packet) => DiscardSink.Instance.TransmitCopy(packet);

        public void Flush()
        {
        }

        public RingStatistics ReadRingStatistics() => default;

        public void Dispose()
        {
            ring.Dispose();
            NativeMemory.AlignedFree(templates);
        }
    }
}
