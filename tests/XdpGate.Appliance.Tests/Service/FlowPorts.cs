using System.Buffers.Binary;
using System.Runtime.InteropServices;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.Synthetic;

namespace XdpGate.Appliance.Tests.Service;

/// <summary>
/// In-memory ports that count per flow, so a test knows exactly what entered and what left the appliance.
/// Flow f is <see cref="SyntheticTraffic"/>'s: UDP from 198.18.0.1 + f, port 1024 + f.
/// </summary>
internal static class FlowPorts
{
    public static readonly SyntheticTraffic Traffic = new() { Flows = 4 };

    /// <summary>The flow of a frame by its IPv4 source address, or -1.</summary>
    public static int FlowOf(ReadOnlySpan<byte> frame) =>
        frame.Length >= 34 ? (int)(BinaryPrimitives.ReadUInt32BigEndian(frame[26..]) - 0xc6120001u) : -1;
}

/// <summary>Generates the flows in turn, as fast as its worker takes them, until <see cref="Stop"/>; counts what it handed out per flow.</summary>
internal sealed class FlowSourcePort : IPort, IHostStackPort
{
    private readonly Queue[] queues;

    public FlowSourcePort(string name, int ifindex, int queueCount)
    {
        Name = name;
        Ifindex = ifindex;
        queues = [.. Enumerable.Range(0, queueCount).Select(q => new Queue(q))];
    }

    public string Name { get; }
    public int Ifindex { get; }
    public IReadOnlyList<IPortQueue> Queues => queues;

    /// <summary>No frame is handed out after this returns... once each worker has finished its batch.</summary>
    public void Stop()
    {
        foreach (var queue in queues)
            Volatile.Write(ref queue.Stopped, true);
    }

    /// <summary>Frames handed out, per flow, over all queues (read after the workers stopped).</summary>
    public long[] Sent => [.. Enumerable.Range(0, FlowPorts.Traffic.Flows).Select(f => queues.Sum(q => q.Sent[f]))];

    public IFrameSink HostStack(int queue) => DiscardSink.Instance;

    public void Dispose()
    {
        foreach (var queue in queues)
            queue.Dispose();
    }

    private sealed unsafe class Queue : IPortQueue, IDisposable
    {
        private readonly FrameRing ring = new(64);
        private readonly byte[][] templates;
        private int flow;
        public readonly long[] Sent = new long[FlowPorts.Traffic.Flows];
        public bool Stopped;

        public Queue(int index)
        {
            QueueIndex = index;
            templates = [.. Enumerable.Range(0, FlowPorts.Traffic.Flows).Select(f =>
            {
                var frame = new byte[FlowPorts.Traffic.Size];
                FlowPorts.Traffic.Build(f, frame);
                return frame;
            })];
        }

        public int QueueIndex { get; }
        public int PollDescriptor => -1;
        public bool Exhausted => Volatile.Read(ref Stopped);

        public int Receive(Span<PortFrame> frames)
        {
            if (Volatile.Read(ref Stopped))
                return 0;
            var n = Math.Min(frames.Length, ring.Available);
            for (var i = 0; i < n; i++)
            {
                fixed (byte* data = templates[flow])
                    ring.Take(ref frames[i], data, templates[flow].Length, clear: false);
                Sent[flow]++;
                flow = (flow + 1) % templates.Length;
            }
            return n;
        }

        public void Complete(Span<PortFrame> frames, ref TransmitTally tally)
        {
            foreach (ref var frame in frames)
            {
                if (frame.Fate == FrameFate.Transmit)
                    tally.Add(TxStatus.Sent, frame.Length);
            }
            ring.Return(frames.Length);
        }

        public TxStatus TransmitCopy(ReadOnlySpan<byte> packet) => TxStatus.Sent;

        public void Flush()
        {
        }

        public RingStatistics ReadRingStatistics() => default;

        public void Dispose() => ring.Dispose();
    }
}

/// <summary>A port that receives nothing and counts, per flow, every frame sent out of it (an inline peer's PASS).</summary>
internal sealed class CountingPort(string name, int ifindex, int queueCount) : IPort, IHostStackPort
{
    private readonly Queue[] queues = [.. Enumerable.Range(0, queueCount).Select(q => new Queue(q))];

    public string Name { get; } = name;
    public int Ifindex { get; } = ifindex;
    public IReadOnlyList<IPortQueue> Queues => queues;

    /// <summary>Frames that left by this port, per flow (read after the workers stopped).</summary>
    public long[] Arrived => [.. Enumerable.Range(0, FlowPorts.Traffic.Flows).Select(f => queues.Sum(q => q.Arrived[f]))];

    public IFrameSink HostStack(int queue) => DiscardSink.Instance;

    public void Dispose()
    {
    }

    private sealed class Queue(int index) : IPortQueue
    {
        public readonly long[] Arrived = new long[FlowPorts.Traffic.Flows];

        public int QueueIndex { get; } = index;
        public int PollDescriptor => -1;
        public bool Exhausted => true;

        public int Receive(Span<PortFrame> frames) => 0;

        public void Complete(Span<PortFrame> frames, ref TransmitTally tally)
        {
        }

        public TxStatus TransmitCopy(ReadOnlySpan<byte> packet)
        {
            var flow = FlowPorts.FlowOf(packet);
            if ((uint)flow < (uint)Arrived.Length)
                Arrived[flow]++;
            return TxStatus.Sent;
        }

        public void Flush()
        {
        }

        public RingStatistics ReadRingStatistics() => default;
    }
}
