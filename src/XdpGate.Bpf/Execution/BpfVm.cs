using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Execution;

/// <summary>
/// The execution state of one CPU (worker): its stack frames, its context block, the memory a running program may
/// touch, redirect state and fault counters. A VM runs one program at a time on one thread; run one VM per core.
/// Runs allocate nothing and take no locks.
/// </summary>
public sealed unsafe class BpfVm : IDisposable
{
    public const int StackBytes = MAX_CALL_FRAMES * MAX_BPF_STACK;
    private const int ContextBytes = 64;

    private byte* memory;
    private ulong rng;

    public BpfVm(int cpu = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        Cpu = cpu;
        memory = (byte*)NativeMemory.AlignedAlloc(StackBytes + ContextBytes, 64);
        NativeMemory.Clear(memory, StackBytes + ContextBytes);
        StackBase = memory;
        ContextBlock = memory + StackBytes;
        rng = (ulong)(0x9e3779b97f4a7c15 * (ulong)(cpu + 1)) ^ (ulong)Environment.TickCount64;
        if (rng == 0)
            rng = 1;
        CallFrames = new CallFrame[MAX_CALL_FRAMES];
    }

    /// <summary>The CPU index this VM stands for: get_smp_processor_id and the per-CPU map slot.</summary>
    public int Cpu { get; }

    /// <summary>Backward jumps allowed per run before it is stopped; the verifier makes this a safety net only.</summary>
    public long BackwardJumpLimit { get; set; } = 1L << 24;

    /// <summary>Receives bpf_trace_printk output (like the kernel's trace_pipe); none by default.</summary>
    public Action<string>? Trace { get; set; }

    /// <summary>Where and why the last run faulted; Reason is None after a clean run.</summary>
    public Fault LastFault { get; private set; }

    private readonly long[] faultCounts = new long[Enum.GetValues<FaultReason>().Length];

    /// <summary>How many runs ended in each fault reason.</summary>
    public long FaultCount(FaultReason reason) => faultCounts[(int)reason];

    // Redirect state set by bpf_redirect / bpf_redirect_map, read by the dataplane after an XDP_REDIRECT verdict.
    public uint RedirectIfindex { get; internal set; }
    public BpfMap? RedirectMap { get; internal set; }
    public uint RedirectKey { get; internal set; }
    public ulong RedirectFlags { get; internal set; }

    internal readonly byte* StackBase;
    internal readonly byte* ContextBlock;
    internal readonly CallFrame[] CallFrames;

    // The memory the running program may access. Spans are lengths; an address is inside when (addr - lo) < span.
    internal ulong PacketLo;
    internal ulong PacketSpan;
    internal ulong ContextLo;
    internal bool IsXdp;
    internal XdpContext Xdp;
    internal MemoryRegion[] Regions = [];
    internal BpfProgram? Running;
    internal int TailCallCount;
    internal long BackwardJumpsLeft;
    /// <summary>The instruction that called the running helper, for fault reports.</summary>
    internal int CurrentPc;
    internal FaultReason PendingFault;
    internal ulong PendingAddress;
    internal int PendingSize;

    /// <summary>Runs a program of type BPF_PROG_TYPE_UNSPEC over plain memory: r1 = its address, r2 = its length. Returns r0.</summary>
    public ulong Run(BpfProgram program, Span<byte> data) => Run(program, data, &Interpreter.Execute);

    /// <summary>Runs an XDP program on a frame; helpers may move the frame's pointers, so the context is updated in place.</summary>
    public xdp_action RunXdp(BpfProgram program, ref XdpContext context) => RunXdp(program, ref context, &Interpreter.Execute);

    // The setup both engines share; engine runs the program from its first instruction with r1, r2 and returns r0.
    internal ulong Run(BpfProgram program, Span<byte> data, delegate*<BpfVm, BpfProgram, ulong, ulong, ulong> engine)
    {
        ArgumentNullException.ThrowIfNull(program);
        fixed (byte* p = data)
        {
            IsXdp = false;
            PacketLo = (ulong)p;
            PacketSpan = (ulong)data.Length;
            ContextLo = 0;
            return Execute(program, (ulong)p, (ulong)data.Length, engine);
        }
    }

    internal xdp_action RunXdp(BpfProgram program, ref XdpContext context, delegate*<BpfVm, BpfProgram, ulong, ulong, ulong> engine)
    {
        ArgumentNullException.ThrowIfNull(program);
        IsXdp = true;
        Xdp = context;
        ContextLo = (ulong)ContextBlock;
        var md = (xdp_md*)ContextBlock;
        md->ingress_ifindex = context.IngressIfindex;
        md->rx_queue_index = context.RxQueueIndex;
        md->egress_ifindex = context.EgressIfindex;
        SetPacketFromXdp();
        RedirectIfindex = 0;
        RedirectMap = null;
        var r0 = Execute(program, ContextLo, 0, engine);
        context = Xdp;
        return (xdp_action)(uint)r0;
    }

    private ulong Execute(BpfProgram program, ulong r1, ulong r2, delegate*<BpfVm, BpfProgram, ulong, ulong, ulong> engine)
    {
        PendingFault = FaultReason.None;
        TailCallCount = 0;
        Running = program;
        Regions = program.Regions;
        var r0 = engine(this, program, r1, r2);
        if (PendingFault != FaultReason.None)
            return 0;
        LastFault = default;
        return r0;
    }

    internal void SetPacketFromXdp()
    {
        PacketLo = (ulong)Xdp.DataMeta;
        PacketSpan = (ulong)(Xdp.DataEnd - Xdp.DataMeta);
    }

    /// <summary>Records a fault; the interpreter stops at the next check of <see cref="PendingFault"/>.</summary>
    internal void RaiseFault(FaultReason reason, int pc, ulong address = 0, int size = 0)
    {
        if (PendingFault != FaultReason.None)
            return;
        PendingFault = reason;
        PendingAddress = address;
        PendingSize = size;
        faultCounts[(int)reason]++;
        LastFault = new Fault(reason, pc, address, size, Running?.Name ?? "?");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Inside(ulong address, int size, ulong lo, ulong span)
    {
        var offset = address - lo;
        return offset < span && span - offset >= (ulong)size;
    }

    /// <summary>Whether a program may read <paramref name="size"/> bytes at <paramref name="address"/> directly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool CanAccess(ulong address, int size, bool write) =>
        Inside(address, size, (ulong)StackBase, StackBytes)
        || Inside(address, size, PacketLo, PacketSpan)
        || InMapMemory(address, size, write);

    private bool InMapMemory(ulong address, int size, bool write)
    {
        foreach (var region in Regions)
        {
            if (Inside(address, size, (ulong)region.Start, (ulong)region.Length))
                return !write || region.Writable;
        }
        return false;
    }

    /// <summary>
    /// A load from the XDP context: the kernel rewrites loads of xdp_md.data/data_end/data_meta into loads of the
    /// real 64-bit pointers; this does the same at run time. Only aligned 4-byte loads of existing fields are valid.
    /// </summary>
    internal bool TryLoadContext(ulong address, int size, out ulong value)
    {
        value = 0;
        var offset = address - ContextLo;
        if (!IsXdp || offset >= (ulong)sizeof(xdp_md) || size != 4 || (offset & 3) != 0)
            return false;
        var md = (xdp_md*)ContextBlock;
        value = offset switch
        {
            0 => (ulong)Xdp.Data,
            4 => (ulong)Xdp.DataEnd,
            8 => (ulong)Xdp.DataMeta,
            12 => md->ingress_ifindex,
            16 => md->rx_queue_index,
            _ => md->egress_ifindex,
        };
        return true;
    }

    internal bool IsContextPointer(ulong value) => IsXdp && value == ContextLo;

    /// <summary>Whether an address falls inside the XDP context block (xdp_md), so a fault there is a context fault.</summary>
    internal bool InContextBlock(ulong address) => IsXdp && address - ContextLo < (ulong)sizeof(xdp_md);

    internal uint NextRandom()
    {
        // xorshift64*: fast, allocation-free and good enough for bpf_get_prandom_u32 (which is not cryptographic either).
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return (uint)((rng * 0x2545f4914f6cdd1d) >> 32);
    }

    public void Dispose()
    {
        if (memory is not null)
        {
            NativeMemory.AlignedFree(memory);
            memory = null;
        }
    }

    internal struct CallFrame
    {
        public BpfProgram Program;
        public int ReturnPc;
        public ulong R6, R7, R8, R9;
    }
}
