using System.Runtime.CompilerServices;
using XdpGate.Bpf.Jit;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Bpf.Execution;

/// <summary>
/// A program made ready to run on one VM (<see cref="ExecutionEngines.Bind"/>): the engine and, for the JIT, the code
/// of the VM's processor id, resolved once. A run through it looks nothing up and checks no argument: the dataplane binds
/// one per worker each time a program is published and runs every frame through it.
/// </summary>
public readonly unsafe struct ProgramEntry
{
    private readonly BpfVm vm;
    private readonly BpfProgram program;
    private readonly JitProgram? code;
    private readonly JitBody? body;

    /// <param name="code">The JIT's code of <paramref name="program"/>, or null to interpret it.</param>
    internal ProgramEntry(BpfVm vm, BpfProgram program, JitProgram? code)
    {
        this.vm = vm;
        this.program = program;
        this.code = code;
        body = code?.Body(vm.ProcessorId);
    }

    public BpfProgram Program => program;

    public BpfVm Vm => vm;

    /// <summary>
    /// Runs the XDP program on the frame at <paramref name="frame"/> (the kernel's xdp_buff), which must stay where it
    /// is until the run returns; helpers (adjust_head, adjust_tail, adjust_meta) move its pointers in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public xdp_action RunXdp(XdpContext* frame)
    {
        vm.BeginXdp(program, frame);
        return (xdp_action)(uint)vm.End(Execute(vm.ContextPointer, 0));
    }

    /// <summary>Runs the XDP program on <paramref name="context"/>, updated in place.</summary>
    public xdp_action RunXdp(ref XdpContext context)
    {
        fixed (XdpContext* frame = &context)
            return RunXdp(frame);
    }

    /// <summary>Runs a program of type BPF_PROG_TYPE_UNSPEC over plain memory: r1 = its address, r2 = its length. Returns r0.</summary>
    public ulong Run(Span<byte> data)
    {
        fixed (byte* p = data)
        {
            vm.BeginRaw(program, p, data.Length);
            return vm.End(Execute((ulong)p, (ulong)data.Length));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Execute(ulong r1, ulong r2) =>
        body is null ? Interpreter.Execute(vm, program, r1, r2) : JitRuntime.Run(vm, code!, body, r1, r2);
}
