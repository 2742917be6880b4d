using System.Runtime.CompilerServices;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Uapi;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Execution;

/// <summary>Runs a bpf_loop callback for <see cref="BpfRuntime.Loop"/>, in the engine that called bpf_loop.</summary>
internal interface ICallbackRunner
{
    /// <summary>Runs the running program from <paramref name="startPc"/> in a new frame <paramref name="depth"/>, r1 = iteration, r2 = context, until that frame exits; returns r0.</summary>
    ulong RunCallback(BpfVm vm, int startPc, ulong iteration, ulong context, int depth);
}

/// <summary>The transfers of control: call frames, tail calls, bpf_loop, the backward-jump budget.</summary>
internal static unsafe partial class BpfRuntime
{
    /// <summary>Kernel BPF_MAX_LOOPS: the most iterations one bpf_loop call may ask for.</summary>
    public const uint BPF_MAX_LOOPS = 8 * 1024 * 1024;

    /// <summary>r10 of call frame <paramref name="depth"/>: each frame has its own MAX_BPF_STACK bytes below it.</summary>
    internal static ulong FramePointer(BpfVm vm, int depth) => (ulong)(vm.StackBase + (depth + 1) * MAX_BPF_STACK);

    /// <summary>
    /// Exit from a BPF-to-BPF call: pops frame <paramref name="depth"/>, restoring the caller's program (and its map
    /// regions), r6-r9 and r10 in <paramref name="registers"/>; returns the caller's program.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static BpfProgram ReturnFromCall(BpfVm vm, ulong* registers, ref int depth, out int returnPc)
    {
        ref var frame = ref vm.CallFrames[depth];
        var program = frame.Program;
        vm.Regions = program.Regions;
        vm.Running = program;
        returnPc = frame.ReturnPc;
        registers[6] = frame.R6;
        registers[7] = frame.R7;
        registers[8] = frame.R8;
        registers[9] = frame.R9;
        depth--;
        registers[BPF_REG_FP] = FramePointer(vm, depth);
        return program;
    }

    /// <summary>Spends one backward jump of the run's budget, so that a loop without an exit is stopped; false (and a fault) when it is spent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool BackwardJump(BpfVm vm, int pc)
    {
        if (--vm.BackwardJumpsLeft >= 0)
            return true;
        vm.RaiseFault(FaultReason.InstructionLimit, pc);
        return false;
    }

    /// <summary>
    /// bpf_tail_call as the kernel's JIT runs it (measured on 6.18): an index past max_entries or an empty slot does
    /// nothing and costs nothing; the 34th program in a chain is not entered; a success replaces the running
    /// program in this frame (it is returned, and is vm.Running from now on).
    /// </summary>
    internal static BpfProgram? TailCall(BpfVm vm, ulong mapHandle, ulong index)
    {
        if (MapRegistry.FromHandle(mapHandle) is not ProgArrayMap programs)
        {
            vm.RaiseFault(FaultReason.InvalidMapArgument, vm.CurrentPc);
            return null;
        }
        // The index is a u32: the kernel reads only the low half of r3.
        if ((uint)index >= (uint)programs.MaxEntries)
            return null;
        if (vm.TailCallCount >= MAX_TAIL_CALL_CNT)
            return null;
        var next = programs.GetProgram((uint)index);
        if (next is null)
            return null;
        vm.TailCallCount++;
        vm.Running = next;
        vm.Regions = next.Regions;
        return next;
    }

    /// <summary>
    /// bpf_loop(nr_loops, callback, ctx, flags): calls the callback in a new frame until it returns non-zero. The
    /// callback must be a function address of the running program (an lddw of a function), as the kernel's verifier
    /// requires; anything else faults.
    /// </summary>
    internal static ulong Loop<TRunner>(BpfVm vm, int pc, ulong count, ulong callback, ulong context, ulong flags, int depth, TRunner runner)
        where TRunner : struct, ICallbackRunner
    {
        if (flags != 0)
            return unchecked((ulong)-Errno.EINVAL);
        if ((uint)count > BPF_MAX_LOOPS)
            return unchecked((ulong)-Errno.E2BIG);
        var program = vm.Running!;
        var target = callback ^ BpfProgram.CodeAddressTag;
        if (target >= (ulong)program.Length || !program.IsFunctionAddress((int)target))
        {
            vm.RaiseFault(FaultReason.InvalidHelperArgument, pc);
            return 0;
        }
        if (depth + 1 >= MAX_CALL_FRAMES)
        {
            vm.RaiseFault(FaultReason.CallStackOverflow, pc);
            return 0;
        }
        var iterations = (uint)count;
        for (uint n = 0; n < iterations; n++)
        {
            var result = runner.RunCallback(vm, (int)target, n, context, depth + 1);
            // A tail call inside the callback moved to another program; this frame is still the caller's.
            vm.Running = program;
            vm.Regions = program.Regions;
            if (vm.PendingFault != FaultReason.None)
                return 0;
            if (result != 0)
                return n + 1;
        }
        return iterations;
    }
}
