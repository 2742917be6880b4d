using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace XdpGate.Bpf.Execution;

/// <summary>
/// What both engines do the same way, in one place: the memory checks a run makes, the call frames, tail calls,
/// bpf_loop, the instruction budget and the arithmetic whose edge cases RFC 9669 spells out. The interpreter calls
/// these directly; the JIT's code calls the same methods, so a fault, a frame or a tail call cannot differ between them.
/// </summary>
/// <remarks>A pc argument is the index of the instruction on whose behalf the runtime acts, for fault reports.</remarks>
internal static unsafe partial class BpfRuntime
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Readable(BpfVm vm, ulong address, int size, int pc) => Accessible(vm, address, size, pc, write: false);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Writable(BpfVm vm, ulong address, int size, int pc) => Accessible(vm, address, size, pc, write: true);

    // Inlined into each caller with write a constant: the fast path is one CanAccess, the fault out of line.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Accessible(BpfVm vm, ulong address, int size, int pc, bool write)
    {
        if (vm.CanAccess(address, size, write))
            return true;
        AccessFault(vm, address, size, pc, write);
        return false;
    }

    private static void AccessFault(BpfVm vm, ulong address, int size, int pc, bool write) =>
        vm.RaiseFault(vm.InContextBlock(address) ? FaultReason.InvalidContextAccess
            : write ? FaultReason.InvalidWrite : FaultReason.InvalidRead, pc, address, size);

    internal static bool AtomicTarget(BpfVm vm, ulong address, int size, int pc)
    {
        if (!Writable(vm, address, size, pc))
            return false;
        if ((address & (ulong)(size - 1)) == 0)
            return true;
        vm.RaiseFault(FaultReason.MisalignedAtomic, pc, address, size);
        return false;
    }

    /// <summary>A 4-byte load: memory, else an xdp_md field (see <see cref="BpfVm.TryLoadContext"/>), else a fault.</summary>
    /// <remarks>The context block lies outside every region CanAccess admits, so trying it first changes no result;
    /// it saves the region walk on the loads of data and data_end every XDP program starts with.</remarks>
    internal static bool LoadWord(BpfVm vm, ulong address, int pc, out ulong value)
    {
        if (vm.TryLoadContext(address, 4, out value))
            return true;
        if (vm.CanAccess(address, 4, write: false))
        {
            value = Unsafe.ReadUnaligned<uint>((void*)address);
            return true;
        }
        return Readable(vm, address, 4, pc);
    }

    /// <summary>LD_ABS / LD_IND: a big-endian load of <paramref name="size"/> bytes at packet <paramref name="offset"/>; false when out of range.</summary>
    internal static bool LoadPacket(BpfVm vm, int size, long offset, out ulong value)
    {
        value = 0;
        var packetStart = (ulong)vm.Xdp->Data;
        var packetLength = (long)(vm.Xdp->DataEnd - vm.Xdp->Data);
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
