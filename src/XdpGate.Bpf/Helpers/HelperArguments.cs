using System.Runtime.CompilerServices;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;

namespace XdpGate.Bpf.Helpers;

/// <summary>
/// Run-time checks of helper arguments. The kernel's verifier proves these before a program runs; without that
/// proof a bad argument ends the run with a fault instead of touching memory it must not.
/// </summary>
internal static unsafe class HelperArguments
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static BpfMap? Map(BpfVm vm, ulong handle)
    {
        var map = MapRegistry.FromHandle(handle);
        if (map is null)
            vm.RaiseFault(FaultReason.InvalidMapArgument, vm.CurrentPc, handle);
        return map;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Memory(BpfVm vm, ulong address, int size, bool write)
    {
        if (size == 0 || vm.CanAccess(address, size, write))
            return true;
        vm.RaiseFault(FaultReason.InvalidHelperMemory, vm.CurrentPc, address, size);
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Context(BpfVm vm, ulong pointer)
    {
        if (vm.IsContextPointer(pointer))
            return true;
        vm.RaiseFault(FaultReason.InvalidHelperArgument, vm.CurrentPc, pointer);
        return false;
    }

    /// <summary>A negative errno as the 64-bit r0 value the kernel returns.</summary>
    public static ulong Error(int errno) => unchecked((ulong)(long)-errno);
}
