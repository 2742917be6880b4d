using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Helpers;

/// <summary>bpf_ringbuf_output, bpf_ringbuf_reserve, bpf_ringbuf_submit, bpf_ringbuf_discard.</summary>
internal static unsafe class RingBufferHelpers
{
    private const ulong WakeupFlags = RingBufMap.BPF_RB_NO_WAKEUP | RingBufMap.BPF_RB_FORCE_WAKEUP;

    public static ulong Output(BpfVm vm, ulong mapHandle, ulong data, ulong size, ulong flags, ulong r5)
    {
        if (Ring(vm, mapHandle) is not { } ring)
            return 0;
        if ((flags & ~WakeupFlags) != 0)
            return HelperArguments.Error(Errno.EINVAL);
        if (size > int.MaxValue || !HelperArguments.Memory(vm, data, (int)size, write: false))
            return 0;
        return (ulong)(long)ring.Output(new ReadOnlySpan<byte>((void*)data, (int)size));
    }

    public static ulong Reserve(BpfVm vm, ulong mapHandle, ulong size, ulong flags, ulong r4, ulong r5)
    {
        if (Ring(vm, mapHandle) is not { } ring)
            return 0;
        return flags != 0 ? 0 : (ulong)ring.Reserve(size);
    }

    public static ulong Submit(BpfVm vm, ulong record, ulong flags, ulong r3, ulong r4, ulong r5) => Commit(vm, record, discard: false);

    public static ulong Discard(BpfVm vm, ulong record, ulong flags, ulong r3, ulong r4, ulong r5) => Commit(vm, record, discard: true);

    private static ulong Commit(BpfVm vm, ulong record, bool discard)
    {
        foreach (var map in vm.Running!.Maps)
        {
            if (map is RingBufMap ring && ring.ValueRegion.Contains(record, 0) && ring.Commit((byte*)record, discard))
                return 0;
        }
        vm.RaiseFault(FaultReason.InvalidHelperArgument, vm.CurrentPc, record);
        return 0;
    }

    private static RingBufMap? Ring(BpfVm vm, ulong mapHandle)
    {
        var map = HelperArguments.Map(vm, mapHandle);
        if (map is RingBufMap ring)
            return ring;
        if (map is not null)
            vm.RaiseFault(FaultReason.InvalidMapArgument, vm.CurrentPc, mapHandle);
        return null;
    }
}
