using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.Synthetic;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Xdp;
using Xunit;

namespace XdpGate.Appliance.Tests.Dataplane;

/// <summary>
/// What the workers do when a transmission fails: every failed frame is released and counted under its reason,
/// and the run goes on. Real rings cannot be made full or small on demand, so the ports here wrap a synthetic
/// port's receive side with a TX side of fixed capacity per batch and a maximum frame length.
/// </summary>
public sealed class DispatchErrorTests
{
    private const int Frames = 1000;

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Jit)]
    public void A_full_TX_ring_costs_a_counted_drop_and_never_a_wait(ExecutionEngine engine)
    {
        using var port = new LimitedPort(new SyntheticPort("syn0", 1, new SyntheticTraffic { Count = Frames }, new PortOptions()), txPerBatch: 10, maxLength: 4000);
        var stats = Run(Programs.Returning((uint)xdp_action.XDP_TX), engine, [port]);
        var total = stats.Total;
        Assert.Equal(Frames, total.Count(xdp_action.XDP_TX));
        Assert.Equal(port.Sent, total.TxPackets);
        Assert.Equal(Frames - port.Sent, total.Count(DispatchError.TxRingFull));
        Assert.True(port.Sent > 0 && port.Sent < Frames);
        Assert.Equal(0, port.Outstanding);
    }

    [Fact]
    public void A_redirect_of_a_frame_too_large_for_the_target_is_counted()
    {
        using var ingress = new SyntheticPort("syn0", 1, new SyntheticTraffic { Count = Frames, Size = 200 }, new PortOptions());
        using var egress = new LimitedPort(new SyntheticPort("syn1", 2, new SyntheticTraffic { Count = 0 }, new PortOptions()), txPerBatch: 1000, maxLength: 100);
        var stats = Run(Programs.RedirectTo(2), ExecutionEngine.Interpreter, [ingress, egress]);
        Assert.Equal(Frames, stats.Ports[0].Total.Count(DispatchError.TooLarge));
        Assert.Equal(0, stats.Ports[1].Total.TxPackets);
    }

    [Fact]
    public void A_pass_target_that_refuses_frames_is_counted_per_reason()
    {
        using var port = new SyntheticPort("syn0", 1, new SyntheticTraffic { Count = Frames }, new PortOptions());
        using var peer = new LimitedPort(new SyntheticPort("syn1", 2, new SyntheticTraffic { Count = 0 }, new PortOptions()), txPerBatch: 0, maxLength: 4000);
        var stats = Run(Programs.Returning((uint)xdp_action.XDP_PASS), ExecutionEngine.Interpreter, [port, peer], (p, q) => p == port ? peer.Queues[q] : DiscardSink.Instance);
        Assert.Equal(Frames, stats.Ports[0].Total.Count(DispatchError.TxRingFull));
    }

    private static StatsSnapshot Run(Bpf.Program.BpfProgram program, ExecutionEngine engine, IReadOnlyList<IPort> ports, Func<IPort, int, IFrameSink?>? pass = null)
    {
        using var pool = new WorkerPool(ports, program, [0], new WorkerOptions { Engine = engine, Pin = false }, pass ?? ((_, _) => null));
        pool.Start();
        Assert.True(pool.Join(TimeSpan.FromSeconds(30)), "the worker did not finish: a failed transmission must not stall it");
        return pool.Snapshot();
    }

    /// <summary>A port whose TX ring takes <c>txPerBatch</c> frames between flushes and frames of at most <c>maxLength</c> bytes.</summary>
    private sealed class LimitedPort(SyntheticPort inner, int txPerBatch, int maxLength) : IPort
    {
        private readonly LimitedQueue queue = new(inner.Queues[0], txPerBatch, maxLength);

        public string Name => inner.Name;
        public int Ifindex => inner.Ifindex;
        public IReadOnlyList<IPortQueue> Queues => [queue];
        public long Sent => queue.Sent;
        public long Outstanding => queue.Outstanding;

        public void Dispose() => inner.Dispose();

        private sealed class LimitedQueue(IPortQueue inner, int capacity, int maxLength) : IPortQueue
        {
            private int used;

            public long Sent { get; private set; }
            public long Outstanding { get; private set; }
            public int QueueIndex => inner.QueueIndex;
            public int PollDescriptor => -1;
            public bool Exhausted => inner.Exhausted;

            public int Receive(Span<PortFrame> frames)
            {
                var n = inner.Receive(frames);
                Outstanding += n;
                return n;
            }

            // Transmissions go to the limited TX side; every buffer then goes back to the inner port's receive side.
            public void Complete(Span<PortFrame> frames, ref TransmitTally tally)
            {
                foreach (ref var frame in frames)
                {
                    if (frame.Fate == FrameFate.Transmit)
                        tally.Add(Take(frame.Length), frame.Length);
                    frame.Fate = FrameFate.Recycle;
                }
                var recycled = default(TransmitTally);
                inner.Complete(frames, ref recycled);
                Outstanding -= frames.Length;
            }

            public TxStatus TransmitCopy(ReadOnlySpan<byte> packet) => Take(packet.Length);

            private TxStatus Take(int length)
            {
                if (length > maxLength)
                    return TxStatus.TooLarge;
                if (used == capacity)
                    return TxStatus.RingFull;
                used++;
                Sent++;
                return TxStatus.Sent;
            }

            public void Flush() => used = 0;

            public RingStatistics ReadRingStatistics() => default;
        }
    }
}
