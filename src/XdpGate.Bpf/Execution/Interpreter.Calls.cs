using System.Buffers.Binary;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Uapi;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Execution;

/// <summary>The instructions and helpers that transfer control: tail calls, bpf_loop callbacks, legacy packet loads.</summary>
internal static unsafe partial class Interpreter
{
    /// <summary>Kernel BPF_MAX_LOOPS: the most iterations one bpf_loop call may ask for.</summary>
    public const uint BPF_MAX_LOOPS = 8 * 1024 * 1024;

    /// <summary>
    /// bpf_tail_call as the kernel's JIT runs it (measured on 6.18): an index past max_entries or an empty slot does
    /// nothing and costs nothing; the 34th program in a chain is not entered; a success replaces the running
    /// program in this frame. (The kernel's own interpreter spends the count on empty slots too.)
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

    /// <summary>bpf_loop(nr_loops, callback, ctx, flags): calls the callback in a new frame until it returns non-zero.</summary>
    /// <remarks>Shared by both engines: <paramref name="body"/> runs one iteration (the engine's own callback entry).</remarks>
    internal static ulong Loop(BpfVm vm, BpfProgram program, int pc, ulong count, ulong callback, ulong context, ulong flags, int depth,
        delegate*<BpfVm, BpfProgram, int, ulong, ulong, int, ulong> body)
    {
        if (flags != 0)
            return unchecked((ulong)-Errno.EINVAL);
        if ((uint)count > BPF_MAX_LOOPS)
            return unchecked((ulong)-Errno.E2BIG);
        var target = callback ^ BpfProgram.CodeAddressTag;
        if (target >= (ulong)program.Length)
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
            var result = body(vm, program, (int)target, n, context, depth + 1);
            vm.Running = program;
            vm.Regions = program.Regions;
            if (vm.PendingFault != FaultReason.None)
                return 0;
            if (result != 0)
                return n + 1;
        }
        return iterations;
    }

    /// <summary>LD_ABS / LD_IND: a big-endian load of <paramref name="size"/> bytes at packet <paramref name="offset"/>; false when out of range.</summary>
    internal static bool LoadPacket(BpfVm vm, int size, long offset, out ulong value)
    {
        value = 0;
        var packetStart = vm.IsXdp ? (ulong)vm.Xdp.Data : vm.PacketLo;
        var packetLength = vm.IsXdp ? (long)(vm.Xdp.DataEnd - vm.Xdp.Data) : (long)vm.PacketSpan;
        if (offset < 0 || offset + size > packetLength)
            return false;
        var p = (byte*)(packetStart + (ulong)offset);
        value = size switch
        {
            1 => *p,
            2 => BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(p, 2)),
            _ => BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(p, 4)),
        };
        return true;
    }
}
