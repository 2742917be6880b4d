using System.Runtime.CompilerServices;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Jit;

/// <summary>
/// Runs compiled code: enters it, and drives it between programs (tail calls, returns into a caller's program) and
/// into bpf_loop callbacks. Everything else happens inside the compiled code and <see cref="BpfRuntime"/>.
/// </summary>
internal static unsafe class JitRuntime
{
    /// <summary>r0-r10, then the call depth.</summary>
    internal const int StateSlots = MAX_BPF_REG + 1;
    internal const int DepthSlot = MAX_BPF_REG;

    /// <summary>The start pc of a run's first frame: r1 and r2 come from the state, every other register starts as the interpreter's do.</summary>
    internal const int Start = -2;

    /// <summary>The start pc that returns at once (with this value), to have RyuJIT compile the code.</summary>
    internal const int Probe = -1;

    /// <summary>Runs <paramref name="body"/>, <paramref name="code"/>'s code for the VM's processor id, from its first instruction with r1, r2; returns r0.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Run(BpfVm vm, JitProgram code, JitBody body, ulong r1, ulong r2)
    {
        // A struct rather than stackalloc: no stack probe or cookie check, and the method can be inlined into its caller.
        Unsafe.SkipInit(out State registers);
        var state = (ulong*)Unsafe.AsPointer(ref registers);
        state[1] = r1;
        state[2] = r2;
        // The common run exits from the code it entered; tail calls and cross-program returns take the driver.
        var status = (JitStatus)body(vm, state, Start, 0);
        return status == JitStatus.Exit ? state[0] : Continue(vm, code, status, state, 0);
    }

    [InlineArray(StateSlots)]
    private struct State
    {
        private ulong slot;
    }

    /// <summary>bpf_loop from compiled code: <see cref="BpfRuntime.Loop"/>, its callbacks run in <paramref name="code"/>.</summary>
    internal static ulong Loop(BpfVm vm, JitProgram code, int pc, ulong count, ulong callback, ulong context, ulong flags, int depth) =>
        BpfRuntime.Loop(vm, pc, count, callback, context, flags, depth, new Callbacks(code));

    /// <summary>A callback in a new frame: a function address, so always an entry of the code.</summary>
    internal readonly struct Callbacks(JitProgram code) : ICallbackRunner
    {
        [SkipLocalsInit]
        public ulong RunCallback(BpfVm vm, int startPc, ulong iteration, ulong context, int depth)
        {
            var state = stackalloc ulong[StateSlots];
            Enter(state, iteration, context, BpfRuntime.FramePointer(vm, depth), depth);
            var status = (JitStatus)code.Body(vm.ProcessorId)(vm, state, startPc, depth);
            return status == JitStatus.Exit ? state[0] : Continue(vm, code, status, state, depth);
        }
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

    /// <summary>The driver after the code returned for something other than an exit: moves between programs until one exits.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong Continue(BpfVm vm, JitProgram code, JitStatus status, ulong* state, int entryDepth)
    {
        while (true)
        {
            int pc;
            switch (status)
            {
                case JitStatus.Exit:
                    return state[0];
                case JitStatus.TailCall:
                    code = code.CodeOf(vm.Running!);
                    pc = 0;
                    break;
                case JitStatus.Return:
                {
                    var depth = (int)state[DepthSlot];
                    code = code.CodeOf(BpfRuntime.ReturnFromCall(vm, state, ref depth, out pc));
                    state[DepthSlot] = (ulong)depth;
                    break;
                }
                default:
                    return 0;
            }
            status = (JitStatus)code.Body(vm.ProcessorId)(vm, state, pc, entryDepth);
        }
    }
}
