using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Bpf.Jit;

/// <summary>
/// A program compiled to IL and then to machine code by RyuJIT. Runs behave exactly like the interpreter's
/// (<see cref="BpfVm.Run"/>, <see cref="BpfVm.RunXdp"/>): same results, same faults, same map and packet effects.
/// </summary>
public sealed unsafe class JitProgram
{
    private readonly bool[] entries;

    internal JitProgram(BpfProgram program, JitBody body, bool[] entries, int checkedAccesses)
    {
        CheckedAccesses = checkedAccesses;
        Program = program;
        Body = body;
        this.entries = entries;
    }

    public BpfProgram Program { get; }

    /// <summary>Memory accesses compiled with a run-time check (those the verifier did not prove in bounds).</summary>
    public int CheckedAccesses { get; }

    internal JitBody Body { get; }

    /// <summary>Whether the compiled code can be entered at <paramref name="pc"/> (start, call return sites, callbacks).</summary>
    internal bool IsEntry(int pc) => (uint)pc < (uint)entries.Length && entries[pc];

    /// <summary>Runs the program over plain memory: r1 = its address, r2 = its length. Returns r0.</summary>
    public ulong Run(BpfVm vm, Span<byte> memory)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return vm.Run(Program, memory, &JitRuntime.Execute);
    }

    /// <summary>Runs the XDP program on a frame; the context is updated in place.</summary>
    public xdp_action RunXdp(BpfVm vm, ref XdpContext context)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return vm.RunXdp(Program, ref context, &JitRuntime.Execute);
    }
}

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
