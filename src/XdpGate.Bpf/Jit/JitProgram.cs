using System.Runtime.CompilerServices;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Bpf.Jit;

/// <summary>
/// A program compiled to IL and then to machine code by RyuJIT, once per processor id that runs it
/// (<see cref="BpfVm.ProcessorId"/>): each one's code has that number and its per-CPU map slots as constants
/// (<see cref="Emitter"/>). Runs behave exactly like the interpreter's (<see cref="BpfVm.Run"/>,
/// <see cref="BpfVm.RunXdp"/>): same results, same faults, same map and packet effects.
/// </summary>
public sealed unsafe class JitProgram
{
    // A power of two: a program's id picks its slot.
    private const int KnownCodeSlots = 16;

    private readonly Lock compiling = new();
    // Read without a lock on every run; replaced (never changed in place) when a processor id's code is added.
    private JitBody?[] bodies;
    // The code of programs this one passes control to (tail-call targets, callers returned to), by program id, so
    // that a tail call finds its target's code without a table lookup. Entries are whole objects: no torn reads.
    private readonly JitProgram?[] known = new JitProgram?[KnownCodeSlots];

    /// <summary>Compiles processor 0's code now, so code the runtime refuses is a compile-time error; the others' come on first use.</summary>
    internal JitProgram(BpfProgram program)
    {
        Program = program;
        var code = new Emitter(this, 0).Compile();
        bodies = [code.Body];
        CheckedAccesses = code.CheckedAccesses;
    }

    public BpfProgram Program { get; }

    /// <summary>Memory accesses compiled with a run-time check (those the verifier did not prove in bounds).</summary>
    public int CheckedAccesses { get; }

    /// <summary>The code specialized to <paramref name="processorId"/>, compiled on its first use (see <see cref="Prepare"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal JitBody Body(int processorId)
    {
        var all = Volatile.Read(ref bodies);
        return (uint)processorId < (uint)all.Length && all[processorId] is { } body ? body : CompileFor(processorId);
    }

    /// <summary>Compiles the code for <paramref name="processorId"/> now, so its first run does not pay for it.</summary>
    public void Prepare(int processorId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(processorId);
        Body(processorId);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private JitBody CompileFor(int processorId)
    {
        lock (compiling)
        {
            var all = bodies;
            if ((uint)processorId < (uint)all.Length && all[processorId] is { } done)
                return done;
            var body = new Emitter(this, processorId).Compile().Body;
            var grown = new JitBody?[Math.Max(all.Length, processorId + 1)];
            all.CopyTo(grown, 0);
            grown[processorId] = body;
            Volatile.Write(ref bodies, grown);
            return body;
        }
    }

    /// <summary>The code of <paramref name="other"/>, a program this one's run continues in (a tail call, a return into a caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal JitProgram CodeOf(BpfProgram other)
    {
        ref var slot = ref known[other.Id & (KnownCodeSlots - 1)];
        var cached = Volatile.Read(ref slot);
        return cached is not null && cached.Program == other ? cached : Learn(ref slot, other);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static JitProgram Learn(ref JitProgram? slot, BpfProgram other)
    {
        var code = JitCompiler.Compile(other);
        Volatile.Write(ref slot, code);
        return code;
    }

    /// <summary>Makes the code ready to run on <paramref name="vm"/>: its processor id's code, compiled now if it was not.</summary>
    public ProgramEntry Bind(BpfVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return new ProgramEntry(vm, Program, this);
    }

    /// <summary>Runs the program over plain memory: r1 = its address, r2 = its length. Returns r0.</summary>
    public ulong Run(BpfVm vm, Span<byte> memory) => Bind(vm).Run(memory);

    /// <summary>Runs the XDP program on a frame; the context is updated in place.</summary>
    public xdp_action RunXdp(BpfVm vm, ref XdpContext context) => Bind(vm).RunXdp(ref context);
}

/// <summary>What compiling a program for one processor id gave: its code and its checked accesses.</summary>
internal readonly record struct EmittedCode(JitBody Body, int CheckedAccesses);

/// <summary>
/// The compiled code of one program. <paramref name="state"/> holds r0-r10 and the call depth at entry and
/// whenever the code returns; the registers live in IL locals in between. Returns a <see cref="JitStatus"/>.
/// </summary>
internal unsafe delegate int JitBody(BpfVm vm, ulong* state, int startPc, int entryDepth);

/// <summary>Why compiled code returned to its driver (<see cref="JitRuntime"/>).</summary>
internal enum JitStatus
{
    /// <summary>The entry frame exited; r0 is in the state.</summary>
    Exit = 0,
    /// <summary>The run faulted; vm.PendingFault says why.</summary>
    Fault = 1,
    /// <summary>A tail call succeeded; vm.Running is the program to continue in, at instruction 0, same frame.</summary>
    TailCall = 2,
    /// <summary>A subprogram exited into a frame pushed by another program (a tail call happened inside it).</summary>
    Return = 3,
}
