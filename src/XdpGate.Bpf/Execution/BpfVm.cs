using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Execution;

/// <summary>
/// The execution state of one processor id (a worker): its stack frames, its context block, the memory a running program may
/// touch, redirect state and fault counters. A VM runs one program at a time on one thread; run one VM per core.
/// Runs allocate nothing and take no locks.
/// </summary>
public sealed unsafe class BpfVm : IDisposable
{
    public const int StackBytes = MAX_CALL_FRAMES * MAX_BPF_STACK;
    private const int ContextBytes = 64;
    // Where a run over plain memory keeps its bounds, in the shape of an XDP frame, so every run has one.
    private static readonly int RawFrameBytes = sizeof(XdpContext);

    private byte* memory;
    private ulong rng;

    public BpfVm(int processorId = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(processorId);
        ProcessorId = processorId;
        memory = (byte*)NativeMemory.AlignedAlloc((nuint)(StackBytes + ContextBytes + RawFrameBytes), 64);
        NativeMemory.Clear(memory, (nuint)(StackBytes + ContextBytes + RawFrameBytes));
        StackBase = memory;
        ContextBlock = memory + StackBytes;
        rawFrame = (XdpContext*)(ContextBlock + ContextBytes);
        rng = (ulong)(0x9e3779b97f4a7c15 * (ulong)(processorId + 1)) ^ (ulong)Environment.TickCount64;
        if (rng == 0)
            rng = 1;
        CallFrames = new CallFrame[MAX_CALL_FRAMES];
    }

    /// <summary>
    /// The CPU number a program run on this VM sees, the kernel's smp_processor_id(): what bpf_get_smp_processor_id
    /// returns, the slot of per-CPU map values it reads and writes, and the JIT's code it runs. The appliance gives
    /// each worker its own, the worker's index; it is not the OS CPU the thread runs on.
    /// </summary>
    public int ProcessorId { get; }

    /// <summary>Backward jumps allowed per run before it is stopped; the verifier makes this a safety net only.</summary>
    public long BackwardJumpLimit { get; set; } = 1L << 24;

    /// <summary>Receives bpf_trace_printk output (like the kernel's trace_pipe); none by default.</summary>
    public Action<string>? Trace { get; set; }

    /// <summary>Where and why the last run faulted; Reason is None after a clean run.</summary>
    public Fault LastFault => PendingFault == FaultReason.None ? default : fault;

    private Fault fault;

    // Redirect state set by bpf_redirect / bpf_redirect_map, read by the dataplane after an XDP_REDIRECT verdict.
    public uint RedirectIfindex { get; internal set; }
    public BpfMap? RedirectMap { get; internal set; }
    public uint RedirectKey { get; internal set; }
    public ulong RedirectFlags { get; internal set; }

    internal readonly byte* StackBase;
    internal readonly byte* ContextBlock;
    internal readonly CallFrame[] CallFrames;

    private readonly XdpContext* rawFrame;

    internal bool IsXdp;
    /// <summary>
    /// The running program's frame: an XDP program's xdp_buff, in the caller's memory, which stays put during the
    /// run; for a run over plain memory, that memory's bounds (data_meta = data, data_end). The packet a program may
    /// access is data_meta..data_end, read from here, so a helper that moves the pointers moves the bounds with them.
    /// </summary>
    internal XdpContext* Xdp;
    internal MemoryRegion[] Regions = [];
    internal BpfProgram? Running;
    internal int TailCallCount;
    internal long BackwardJumpsLeft;
    /// <summary>The instruction that called the running helper, for fault reports.</summary>
    internal int CurrentPc;
    internal FaultReason PendingFault;
    internal ulong PendingAddress;
    internal int PendingSize;

    /// <summary>Runs a program of type BPF_PROG_TYPE_UNSPEC over plain memory with the interpreter: r1 = its address, r2 = its length. Returns r0.</summary>
    public ulong Run(BpfProgram program, Span<byte> data) => ExecutionEngine.Interpreter.Bind(program, this).Run(data);

    /// <summary>Runs an XDP program on a frame with the interpreter; helpers may move the frame's pointers, so the context is updated in place.</summary>
    public xdp_action RunXdp(BpfProgram program, ref XdpContext context) => ExecutionEngine.Interpreter.Bind(program, this).RunXdp(ref context);

    /// <summary>The context pointer (r1) an XDP program gets: the VM's xdp_md block, which programs only load from.</summary>
    internal ulong ContextPointer => (ulong)ContextBlock;

    /// <summary>Sets up a run of <paramref name="program"/> on the XDP frame at <paramref name="frame"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void BeginXdp(BpfProgram program, XdpContext* frame)
    {
        IsXdp = true;
        Xdp = frame;
        RedirectIfindex = 0;
        RedirectMap = null;
        Begin(program);
    }

    /// <summary>Sets up a run of <paramref name="program"/> over <paramref name="length"/> bytes of plain memory.</summary>
    internal void BeginRaw(BpfProgram program, byte* data, int length)
    {
        IsXdp = false;
        rawFrame->Data = rawFrame->DataMeta = data;
        rawFrame->DataEnd = data + length;
        Xdp = rawFrame;
        Begin(program);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Begin(BpfProgram program)
    {
        PendingFault = FaultReason.None;
        TailCallCount = 0;
        BackwardJumpsLeft = BackwardJumpLimit;
        // Regions always belong to Running (a tail call or return changes both), so both are only written when
        // another program ran last: a reference store costs a GC write barrier, on every frame otherwise.
        if (Running != program)
        {
            Running = program;
            Regions = program.Regions;
        }
    }

    /// <summary>A run's result: r0, or 0 when it faulted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong End(ulong r0) => PendingFault == FaultReason.None ? r0 : 0;

    /// <summary>Records a fault; the interpreter stops at the next check of <see cref="PendingFault"/>.</summary>
    internal void RaiseFault(FaultReason reason, int pc, ulong address = 0, int size = 0)
    {
        if (PendingFault != FaultReason.None)
            return;
        PendingFault = reason;
        PendingAddress = address;
        PendingSize = size;
        fault = new Fault(reason, pc, address, size, Running?.Name ?? "?");
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
        || Inside(address, size, (ulong)Xdp->DataMeta, (ulong)(Xdp->DataEnd - Xdp->DataMeta))
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
        var offset = address - ContextPointer;
        if (!IsXdp || offset >= (ulong)sizeof(xdp_md) || size != 4 || (offset & 3) != 0)
            return false;
        value = offset switch
        {
            0 => (ulong)Xdp->Data,
            4 => (ulong)Xdp->DataEnd,
            8 => (ulong)Xdp->DataMeta,
            12 => Xdp->IngressIfindex,
            16 => Xdp->RxQueueIndex,
            _ => Xdp->EgressIfindex,
        };
        return true;
    }

    internal bool IsContextPointer(ulong value) => IsXdp && value == ContextPointer;

    /// <summary>Whether an address falls inside the XDP context block (xdp_md), so a fault there is a context fault.</summary>
    internal bool InContextBlock(ulong address) => IsXdp && address - ContextPointer < (ulong)sizeof(xdp_md);

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
