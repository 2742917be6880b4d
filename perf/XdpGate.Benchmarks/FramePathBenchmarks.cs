using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Benchmarks;

/// <summary>
/// The worker's own cost per frame, with nothing else: frames already sit in their buffers (as a ring the kernel
/// filled), the program is `r0 = XDP_DROP; exit`, and the queue takes its frames back. What is left is the frame
/// path itself: reading the batch, entering and leaving the program, counting, the verdict, the release. The second
/// row enters the same program the same way with no worker around it, so the difference of the two is the path's
/// cost outside the program. ns per frame.
/// </summary>
[MemoryDiagnoser]
public unsafe class FramePathBenchmarks
{
    private const int Batch = 64;
    private InPlacePort port = null!;
    private Worker worker = null!;
    private BpfVm vm = null!;
    private ProgramEntry entry;
    private XdpContext* frame;

    [Params(ExecutionEngine.Interpreter, ExecutionEngine.Jit)]
    public ExecutionEngine Engine { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var program = BpfProgram.Load(Assembler.Assemble("r0 = 1\nexit"), new ProgramOptions { Type = bpf_prog_type.BPF_PROG_TYPE_XDP });
        port = new InPlacePort(Batch, ParseCountFixture.Packet());
        worker = new Worker(0, program, [new WorkerPort(port, 0, DiscardSink.Instance, new QueueCounters())], new WorkerOptions { Engine = Engine, BatchSize = Batch });
        Engine.Prepare(program);
        vm = new BpfVm();
        entry = Engine.Bind(program, vm);
        frame = (XdpContext*)NativeMemory.AllocZeroed((nuint)sizeof(XdpContext));
        Span<PortFrame> one = new PortFrame[1];
        port.Receive(one);
        *frame = one[0].Xdp;
    }

    [Benchmark(Description = "ring to verdict, program returns DROP at once (ns/frame)", OperationsPerInvoke = Batch)]
    public int Frame() => worker.Poll();

    /// <summary>The same program entered the same way on one frame, nothing else: Frame minus this is the path's own cost.</summary>
    [Benchmark(Description = "the program alone, entered as the worker enters it (ns/frame)", OperationsPerInvoke = Batch)]
    public int ProgramAlone()
    {
        var drops = 0;
        for (var i = 0; i < Batch; i++)
            drops += (int)entry.RunXdp(frame);
        return drops;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        worker.Dispose();
        port.Dispose();
        vm.Dispose();
        NativeMemory.Free(frame);
    }

    /// <summary>One queue whose frames never leave their buffers: every receive hands out the same filled frames again.</summary>
    private sealed unsafe class InPlacePort : IPort, IPortQueue
    {
        private readonly byte* buffers;
        private readonly int frames;
        private readonly int length;

        public InPlacePort(int frames, byte[] packet)
        {
            this.frames = frames;
            length = packet.Length;
            buffers = (byte*)NativeMemory.AlignedAlloc((nuint)frames * XdpLayout.FrameSize, 64);
            for (var i = 0; i < frames; i++)
                packet.CopyTo(new Span<byte>(buffers + (nint)i * XdpLayout.FrameSize + XdpLayout.XDP_PACKET_HEADROOM, length));
        }

        public string Name => "inplace0";
        public int Ifindex => 1;
        public IReadOnlyList<IPortQueue> Queues => [this];
        public int QueueIndex => 0;
        public int PollDescriptor => -1;
        public bool Exhausted => false;

        public int Receive(Span<PortFrame> batch)
        {
            var count = Math.Min(batch.Length, frames);
            for (var i = 0; i < count; i++)
            {
                var start = buffers + (nint)i * XdpLayout.FrameSize;
                batch[i].Set(start, start + XdpLayout.XDP_PACKET_HEADROOM, length, XdpLayout.FrameSize, (ulong)i);
            }
            return count;
        }

        public void Complete(Span<PortFrame> batch, ref TransmitTally tally)
        {
            foreach (ref var frame in batch)
            {
                if (frame.Fate == FrameFate.Transmit)
                    tally.Add(TxStatus.Sent, frame.Length);
            }
        }

        public TxStatus TransmitCopy(ReadOnlySpan<byte> packet) => TxStatus.Sent;

        public void Flush()
        {
        }

        public RingStatistics ReadRingStatistics() => default;

        public void Dispose() => NativeMemory.AlignedFree(buffers);
    }
}
