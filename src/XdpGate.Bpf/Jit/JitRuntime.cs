using System.Runtime.CompilerServices;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Jit;

/// <summary>
/// Runs compiled code: the driver loop that moves between programs (tail calls, returns into a caller's program)
/// and the bpf_loop callback entry. Everything else happens inside the compiled code.
/// </summary>
internal static unsafe class JitRuntime
{
    /// <summary>r0-r10, then the call depth.</summary>
    internal const int StateSlots = MAX_BPF_REG + 1;
    internal const int DepthSlot = MAX_BPF_REG;

    /// <summary>The engine entry for <see cref="BpfVm"/>: like Interpreter.Execute.</summary>
    [SkipLocalsInit]
    internal static ulong Execute(BpfVm vm, BpfProgram program, ulong r1, ulong r2)
    {
        vm.BackwardJumpsLeft = vm.BackwardJumpLimit;
        var state = stackalloc ulong[StateSlots];
        Enter(state, r1, r2, Interpreter.FramePointer(vm, 0), 0);
        var code = JitCompiler.CodeFor(program);
        // The common run exits from the code it entered; tail calls and cross-program returns take the driver.
        var status = (JitStatus)code.Body(vm.Cpu)(vm, state, 0, 0);
        return status == JitStatus.Exit ? state[0] : Continue(vm, program, status, state, 0);
    }

    /// <summary>A bpf_loop callback in a new frame, as Interpreter.RunCallback.</summary>
    [SkipLocalsInit]
    internal static ulong RunCallback(BpfVm vm, BpfProgram program, int startPc, ulong iteration, ulong context, int depth)
    {
        // Callbacks named by lddw are entry points; a computed code address is not, and the interpreter runs it.
        var code = JitCompiler.CodeFor(program);
        if (!code.IsEntry(startPc))
            return Interpreter.RunCallback(vm, program, startPc, iteration, context, depth);
        var state = stackalloc ulong[StateSlots];
        Enter(state, iteration, context, Interpreter.FramePointer(vm, depth), depth);
        var status = (JitStatus)code.Body(vm.Cpu)(vm, state, startPc, depth);
        return status == JitStatus.Exit ? state[0] : Continue(vm, program, status, state, depth);
    }

    /// <summary>A fresh frame's registers, as the interpreter starts one: r1, r2, r10 given, the rest zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Enter(ulong* state, ulong r1, ulong r2, ulong fp, int depth)
    {
        state[0] = 0;
        state[1] = r1;
        state[2] = r2;
        state[3] = state[4] = state[5] = state[6] = state[7] = state[8] = state[9] = 0;
        state[BPF_REG_FP] = fp;
        state[DepthSlot] = (ulong)depth;
    }

    /// <summary>bpf_loop from compiled code: the interpreter's checks, iterations run by <see cref="RunCallback"/>.</summary>
    internal static ulong Loop(BpfVm vm, int pc, ulong count, ulong callback, ulong context, ulong flags, int depth) =>
        Interpreter.Loop(vm, vm.Running!, pc, count, callback, context, flags, depth, &RunCallback);

    /// <summary>Takes a backward jump: spends the run's budget like Interpreter.Jump.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool BackwardJump(BpfVm vm, int pc)
    {
        if (--vm.BackwardJumpsLeft >= 0)
            return true;
        vm.RaiseFault(FaultReason.InstructionLimit, pc);
        return false;
    }

    /// <summary>The driver after the code returned for something other than an exit: moves between programs until one exits.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong Continue(BpfVm vm, BpfProgram program, JitStatus status, ulong* state, int entryDepth)
    {
        while (true)
        {
            int pc;
            switch (status)
            {
                case JitStatus.Exit:
                    return state[0];
                case JitStatus.TailCall:
                    program = vm.Running!;
                    pc = 0;
                    break;
                case JitStatus.Return:
                {
                    var depth = (int)state[DepthSlot];
                    program = Interpreter.ReturnFromCall(vm, state, ref depth, out pc);
                    state[DepthSlot] = (ulong)depth;
                    break;
                }
                default:
                    return 0;
            }
            status = (JitStatus)JitCompiler.CodeFor(program).Body(vm.Cpu)(vm, state, pc, entryDepth);
        }
    }
}
