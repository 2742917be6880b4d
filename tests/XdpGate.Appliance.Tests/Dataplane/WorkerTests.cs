using System.IO.Pipes;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.Synthetic;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using XdpGate.Testing.HotPath;
using Xunit;

namespace XdpGate.Appliance.Tests.Dataplane;

public sealed class WorkerTests
{
    private const int Frames = 1000;

    private static SyntheticPort Port(string name, int ifindex, long? count = Frames, int queues = 1, int size = 60, int flows = 4) =>
        new(name, ifindex, new SyntheticTraffic { Count = count, Size = size, Flows = flows }, new PortOptions { Queues = queues });

    /// <summary>Runs one worker (index 0) over the ports until every queue is exhausted.</summary>
    private static StatsSnapshot RunToEnd(BpfProgram program, ExecutionEngine engine, IReadOnlyList<IPort> ports, Func<IPort, int, IFrameSink?>? pass = null)
    {
        using var pool = new WorkerPool(ports, program, [0], new WorkerOptions { Engine = engine, Pin = false }, pass ?? ((_, _) => null));
        pool.Start();
        Assert.True(pool.Join(TimeSpan.FromSeconds(30)));
        return pool.Snapshot();
    }

    public static TheoryData<ExecutionEngine, xdp_action> EveryVerdict()
    {
        var data = new TheoryData<ExecutionEngine, xdp_action>();
        foreach (var engine in Enum.GetValues<ExecutionEngine>())
        {
            foreach (var verdict in new[] { xdp_action.XDP_ABORTED, xdp_action.XDP_DROP, xdp_action.XDP_PASS, xdp_action.XDP_TX })
                data.Add(engine, verdict);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryVerdict))]
    public void Every_frame_is_counted_under_the_verdict_the_program_returns(ExecutionEngine engine, xdp_action verdict)
    {
        using var port = Port("syn0", 1);
        var stats = RunToEnd(Programs.Returning((uint)verdict), engine, [port], (_, _) => DiscardSink.Instance);
        var total = stats.Total;
        Assert.Equal(Frames, total.RxPackets);
        Assert.Equal(Frames * 60L, total.RxBytes);
        Assert.Equal(Frames, total.Count(verdict));
        Assert.Equal(Frames, total.Verdicts.Sum());
        Assert.Equal(verdict == xdp_action.XDP_TX ? Frames : 0, total.TxPackets);
        Assert.Equal(0, total.ErrorTotal);
        if (verdict == xdp_action.XDP_ABORTED)
            Assert.Equal(Frames, total.Aborts[(int)FaultReason.None]);
    }

    [Fact]
    public void A_fault_is_an_abort_counted_with_its_reason()
    {
        using var port = Port("syn0", 1);
        // Reads 8 bytes at data_end: out of the packet (the verifier would refuse it; the fault path is under test).
        var stats = RunToEnd(Programs.UnverifiedXdp("r2 = *(u32 *)(r1 + 4)\nr0 = *(u64 *)(r2 + 0)\nexit"), ExecutionEngine.Interpreter, [port]);
        Assert.Equal(Frames, stats.Total.Count(xdp_action.XDP_ABORTED));
        Assert.Equal(Frames, stats.Total.Aborts[(int)FaultReason.InvalidRead]);
    }

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Jit)]
    public void A_redirect_to_another_port_leaves_through_that_port(ExecutionEngine engine)
    {
        using var ingress = Port("syn0", 1);
        using var egress = Port("syn1", 2, count: 0);
        var stats = RunToEnd(Programs.RedirectTo(2), engine, [ingress, egress]);
        Assert.Equal(Frames, stats.Ports[0].Total.Count(xdp_action.XDP_REDIRECT));
        Assert.Equal(0, stats.Ports[0].Total.TxPackets);
        Assert.Equal(Frames, stats.Ports[1].Total.TxPackets);
        Assert.Equal(Frames * 60L, stats.Ports[1].Total.TxBytes);
    }

    [Fact]
    public void A_redirect_to_no_port_of_the_run_is_counted_and_dropped()
    {
        using var port = Port("syn0", 1);
        var stats = RunToEnd(Programs.RedirectTo(77), ExecutionEngine.Interpreter, [port]);
        Assert.Equal(Frames, stats.Total.Count(xdp_action.XDP_REDIRECT));
        Assert.Equal(Frames, stats.Total.Count(DispatchError.NoSuchPort));
        Assert.Equal(0, stats.Total.TxPackets);
    }

    [Fact]
    public void A_redirect_to_the_ingress_port_is_a_transmit()
    {
        using var port = Port("syn0", 5);
        var stats = RunToEnd(Programs.RedirectTo(5), ExecutionEngine.Interpreter, [port]);
        Assert.Equal(Frames, stats.Total.TxPackets);
    }

    [Fact]
    public void A_pass_with_no_pass_target_is_counted_and_dropped()
    {
        using var port = Port("syn0", 1);
        var stats = RunToEnd(Programs.Returning((uint)xdp_action.XDP_PASS), ExecutionEngine.Interpreter, [port]);
        Assert.Equal(Frames, stats.Total.Count(DispatchError.NoPassTarget));
    }

    [Fact]
    public void A_return_value_that_is_no_verdict_is_dropped_as_the_kernel_does()
    {
        using var port = Port("syn0", 1);
        var stats = RunToEnd(Programs.Returning(9), ExecutionEngine.Interpreter, [port]);
        Assert.Equal(Frames, stats.Total.Count(DispatchError.InvalidVerdict));
        Assert.Equal(0, stats.Total.Verdicts.Sum());
    }

    [Fact]
    public void Each_worker_counts_in_its_own_per_CPU_slot()
    {
        var (program, counters) = Programs.ParseCount(cpus: 2);
        using var _ = counters;
        using var port = Port("syn0", 1, count: 3001, queues: 2);
        using (var pool = new WorkerPool([port], program, [0, 1], new WorkerOptions { Pin = false }, (_, _) => DiscardSink.Instance))
        {
            pool.Start();
            Assert.True(pool.Join(TimeSpan.FromSeconds(30)));
            Assert.Equal(1501, pool.Snapshot().Worker(0).Count(xdp_action.XDP_PASS));
            Assert.Equal(1500, pool.Snapshot().Worker(1).Count(xdp_action.XDP_PASS));
        }
        var pass = new byte[2 * 8];
        Assert.Equal(0, counters.Lookup(BitConverter.GetBytes((uint)xdp_action.XDP_PASS), pass));
        Assert.Equal(1501UL, BitConverter.ToUInt64(pass, 0));
        Assert.Equal(1500UL, BitConverter.ToUInt64(pass, 8));
    }

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Jit)]
    public void The_path_from_ring_to_verdict_allocates_nothing(ExecutionEngine engine)
    {
        var (program, counters) = Programs.ParseCount(cpus: 1);
        using var _ = counters;
        using var ingress = Port("syn0", 1, count: null);
        using var egress = Port("syn1", 2, count: 0);
        var views = new[]
        {
            new WorkerPort(ingress, 0, DiscardSink.Instance, new QueueCounters()),
            new WorkerPort(egress, 0, ingress.Queues[0], new QueueCounters()),
        };
        using var worker = new Worker(0, program, views, new WorkerOptions { Engine = engine });
        Assert.Equal(0, Allocations.InSteadyState(() =>
        {
            for (var i = 0; i < 1000; i++)
                worker.Poll();
        }));
        Assert.True(views[0].Counters.Snapshot(default).Count(xdp_action.XDP_PASS) > 0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_idle_worker_flushes_again_soon_only_while_frames_are_left_unsent(bool unsent)
    {
        using var queue = new IdleQueue { HasUnsentFrames = unsent };
        using var port = new OneQueuePort(queue);
        using var worker = new Worker(0, Programs.Returning((uint)xdp_action.XDP_DROP), [new WorkerPort(port, 0, null, new QueueCounters())],
            new WorkerOptions { Engine = ExecutionEngine.Interpreter, Idle = IdleMode.Wait });
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        worker.Run(stop.Token);

        // 500 ms of 1 ms retries against 100 ms timeouts: at most 6 flushes without unsent frames, hundreds with.
        if (unsent)
            Assert.True(queue.Flushes > 50, $"{queue.Flushes} flushes");
        else
            Assert.InRange(queue.Flushes, 1, 10);
    }

    /// <summary>A queue that never receives: its descriptor (a pipe nobody writes) never becomes readable.</summary>
    private sealed class IdleQueue : IPortQueue, IDisposable
    {
        private readonly AnonymousPipeServerStream pipe = new(PipeDirection.In);

        public int Flushes { get; private set; }
        public bool HasUnsentFrames { get; init; }
        public int QueueIndex => 0;
        public int PollDescriptor => (int)pipe.SafePipeHandle.DangerousGetHandle();
        public bool Exhausted => false;
        public int Receive(Span<PortFrame> frames) => 0;
        public void Complete(Span<PortFrame> frames, ref TransmitTally tally) { }
        public TxStatus TransmitCopy(ReadOnlySpan<byte> packet) => TxStatus.RingFull;
        public RingStatistics ReadRingStatistics() => default;
        public void Flush() => Flushes++;
        public void Dispose() => pipe.Dispose();
    }

    private sealed class OneQueuePort(IPortQueue queue) : IPort
    {
        public string Name => "idle0";
        public int Ifindex => 1;
        public IReadOnlyList<IPortQueue> Queues { get; } = [queue];
        public void Dispose() { }
    }
}
