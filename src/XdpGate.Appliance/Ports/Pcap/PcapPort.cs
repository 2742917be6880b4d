using XdpGate.Appliance.PcapFiles;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Ports.Pcap;

/// <summary>
/// A port that replays a capture as its received traffic (records dealt to the queues in turn, so each queue keeps
/// file order) and, when given an output directory, records what leaves it: <c>NAME.tx.pcap</c> for every frame
/// sent out of the port (XDP_TX, redirects to it, PASS from an inline peer) and <c>NAME.pass.pcap</c> for frames
/// passed to its host stack. With more than one queue each queue writes its own files (<c>NAME.tx.QUEUE.pcap</c>),
/// so workers never share a writer. The port's name is the capture's file name without its extension, unless given.
/// </summary>
public sealed class PcapPort : IPort, IHostStackPort
{
    private readonly PcapQueue[] queues;
    private readonly IFrameSink[] passSinks;

    public PcapPort(string path, int ifindex, PortOptions options, string? outputDirectory, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Queues, 1);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such capture file", path);
        Name = name ?? System.IO.Path.GetFileNameWithoutExtension(path);
        Ifindex = ifindex;
        var records = ReadAll(path);
        queues = new PcapQueue[options.Queues];
        passSinks = new IFrameSink[options.Queues];
        for (var q = 0; q < queues.Length; q++)
        {
            var mine = records.Where((_, i) => i % queues.Length == q).ToArray();
            queues[q] = new PcapQueue(q, mine, OutputSink(outputDirectory, "tx", q), Math.Min(options.RingSize, 256));
            passSinks[q] = OutputSink(outputDirectory, "pass", q);
        }
    }

    public string Name { get; }
    public int Ifindex { get; }
    public IReadOnlyList<IPortQueue> Queues => queues;

    /// <summary>Frames read from the capture.</summary>
    public int Records => queues.Sum(q => q.Records);

    /// <summary>Where queue <paramref name="queue"/>'s PASS frames go when the host stack is the pass target.</summary>
    public IFrameSink HostStack(int queue) => passSinks[queue];

    private IFrameSink OutputSink(string? directory, string kind, int queue)
    {
        if (directory is null)
            return DiscardSink.Instance;
        var suffix = queues.Length == 1 ? "" : $".{queue}";
        return new PcapFileSink(System.IO.Path.Combine(directory, $"{Name}.{kind}{suffix}.pcap"));
    }

    private static byte[][] ReadAll(string path)
    {
        using var stream = File.OpenRead(path);
        var records = new List<byte[]>();
        foreach (var record in PcapReader.ReadAsync(stream, path).ToBlockingEnumerable())
        {
            XdpLayout.CheckFrameLength(record.Data.Length, $"{path}: record {record.Index}");
            records.Add(record.Data);
        }
        return [.. records];
    }

    public void Dispose()
    {
        foreach (var queue in queues)
            queue.Dispose();
        foreach (var sink in passSinks.OfType<IDisposable>())
            sink.Dispose();
    }

    private sealed unsafe class PcapQueue(int index, byte[][] records, IFrameSink wire, int slots) : IPortQueue, IDisposable
    {
        private readonly FrameRing ring = new(slots);
        private int next;

        public int QueueIndex { get; } = index;
        public int Records => records.Length;
        public int PollDescriptor => -1;
        public bool Exhausted => next >= records.Length;

        public int Receive(Span<PortFrame> frames)
        {
            var n = Math.Min(Math.Min(frames.Length, ring.Available), records.Length - next);
            for (var i = 0; i < n; i++)
            {
                var record = records[next++];
                fixed (byte* data = record)
                    ring.Take(ref frames[i], data, record.Length, clear: true);
            }
            return n;
        }

        // A transmitted frame is copied to the wire sink, so every buffer is free again once the batch is complete.
        public void Complete(Span<PortFrame> frames, ref TransmitTally tally)
        {
            for (var i = 0; i < frames.Length; i++)
            {
                ref var frame = ref frames[i];
                if (frame.Fate == FrameFate.Transmit)
                    tally.Add(wire.TransmitCopy(frame.Packet), frame.Length);
            }
            ring.Return(frames.Length);
        }

        public TxStatus TransmitCopy(ReadOnlySpan<byte> packet) => wire.TransmitCopy(packet);

        public void Flush() => wire.Flush();

        public RingStatistics ReadRingStatistics() => default;

        public void Dispose()
        {
            ring.Dispose();
            (wire as IDisposable)?.Dispose();
        }
    }
}
