using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Xdp;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Helpers;

/// <summary>The helpers that work on the frame and the verdict: adjust_head/meta/tail, redirect, redirect_map, load/store bytes.</summary>
internal static unsafe class XdpHelpers
{
    private const ulong ActionMask = (ulong)(xdp_action.XDP_ABORTED | xdp_action.XDP_DROP | xdp_action.XDP_PASS | xdp_action.XDP_TX);

    /// <summary>bpf_xdp_adjust_head(ctx, delta): moves data (and the metadata with it) within the headroom.</summary>
    public static ulong AdjustHead(BpfVm vm, ulong ctx, ulong delta, ulong r3, ulong r4, ulong r5)
    {
        if (!HelperArguments.Context(vm, ctx))
            return 0;
        ref var xdp = ref *vm.Xdp;
        var offset = (int)delta;
        var metaLength = xdp.MetaLength;
        var dataStart = xdp.HardStart + XdpLayout.XdpFrameSize + metaLength;
        var data = xdp.Data + offset;
        if (data < dataStart || data > xdp.DataEnd - XdpLayout.ETH_HLEN)
            return HelperArguments.Error(Errno.EINVAL);
        if (metaLength > 0)
            Buffer.MemoryCopy(xdp.DataMeta, xdp.DataMeta + offset, metaLength, metaLength);
        xdp.DataMeta += offset;
        xdp.Data = data;
        return 0;
    }

    /// <summary>bpf_xdp_adjust_meta(ctx, delta): grows or shrinks the metadata area in front of data (4-byte multiples).</summary>
    public static ulong AdjustMeta(BpfVm vm, ulong ctx, ulong delta, ulong r3, ulong r4, ulong r5)
    {
        if (!HelperArguments.Context(vm, ctx))
            return 0;
        ref var xdp = ref *vm.Xdp;
        var meta = xdp.DataMeta + (int)delta;
        if (meta < xdp.HardStart + XdpLayout.XdpFrameSize || meta > xdp.Data)
            return HelperArguments.Error(Errno.EINVAL);
        // Since the kernel raised xdp_metalen_invalid's cap above the headroom (measured on 6.18: 216 bytes
        // pass), the headroom bound above is the real limit and only the 4-byte multiple is left to check.
        var metaLength = xdp.Data - meta;
        if ((metaLength & 3) != 0)
            return HelperArguments.Error(Errno.EACCES);
        xdp.DataMeta = meta;
        return 0;
    }

    /// <summary>bpf_xdp_adjust_tail(ctx, delta): moves data_end; grown bytes are zeroed, as the kernel does.</summary>
    public static ulong AdjustTail(BpfVm vm, ulong ctx, ulong delta, ulong r3, ulong r4, ulong r5)
    {
        if (!HelperArguments.Context(vm, ctx))
            return 0;
        ref var xdp = ref *vm.Xdp;
        var offset = (int)delta;
        var dataEnd = xdp.DataEnd + offset;
        if (dataEnd > xdp.HardEnd || dataEnd < xdp.Data + XdpLayout.ETH_HLEN)
            return HelperArguments.Error(Errno.EINVAL);
        if (offset > 0)
            new Span<byte>(xdp.DataEnd, offset).Clear();
        xdp.DataEnd = dataEnd;
        return 0;
    }

    /// <summary>bpf_redirect(ifindex, flags): XDP_REDIRECT to an interface, or XDP_ABORTED for any flag.</summary>
    public static ulong Redirect(BpfVm vm, ulong ifindex, ulong flags, ulong r3, ulong r4, ulong r5)
    {
        if (flags != 0)
            return (ulong)xdp_action.XDP_ABORTED;
        vm.RedirectIfindex = (uint)ifindex;
        vm.RedirectMap = null;
        return (ulong)xdp_action.XDP_REDIRECT;
    }

    /// <summary>
    /// bpf_redirect_map(map, key, flags): XDP_REDIRECT through a devmap entry; when the key has no entry, the low
    /// bits of flags are the verdict (the fallback action), unless BPF_F_BROADCAST asks for every entry.
    /// </summary>
    public static ulong RedirectMap(BpfVm vm, ulong mapHandle, ulong key, ulong flags, ulong r4, ulong r5)
    {
        var map = HelperArguments.Map(vm, mapHandle);
        if (map is null)
            return 0;
        if (map is not IDeviceMap)
        {
            vm.RaiseFault(FaultReason.InvalidMapArgument, vm.CurrentPc, mapHandle);
            return 0;
        }
        if ((flags & ~(ActionMask | MapFlags.BPF_F_BROADCAST | MapFlags.BPF_F_EXCLUDE_INGRESS)) != 0)
            return (ulong)xdp_action.XDP_ABORTED;
        var index = (uint)key;
        if ((flags & MapFlags.BPF_F_BROADCAST) == 0 && map.LookupElem((byte*)&index, vm.ProcessorId) is null)
        {
            vm.RedirectMap = null;
            return flags & ActionMask;
        }
        vm.RedirectMap = map;
        vm.RedirectKey = index;
        vm.RedirectFlags = flags;
        return (ulong)xdp_action.XDP_REDIRECT;
    }

    /// <summary>bpf_xdp_get_buff_len(ctx): the packet length (frames here are never multi-buffer).</summary>
    public static ulong GetBuffLen(BpfVm vm, ulong ctx, ulong r2, ulong r3, ulong r4, ulong r5) =>
        HelperArguments.Context(vm, ctx) ? (ulong)vm.Xdp->Length : 0;

    /// <summary>bpf_xdp_load_bytes(ctx, offset, buf, len): copies packet bytes out.</summary>
    public static ulong LoadBytes(BpfVm vm, ulong ctx, ulong offset, ulong buffer, ulong length, ulong r5) =>
        CopyBytes(vm, ctx, offset, buffer, length, toPacket: false);

    /// <summary>bpf_xdp_store_bytes(ctx, offset, buf, len): copies bytes into the packet.</summary>
    public static ulong StoreBytes(BpfVm vm, ulong ctx, ulong offset, ulong buffer, ulong length, ulong r5) =>
        CopyBytes(vm, ctx, offset, buffer, length, toPacket: true);

    private static ulong CopyBytes(BpfVm vm, ulong ctx, ulong offset, ulong buffer, ulong length, bool toPacket)
    {
        if (!HelperArguments.Context(vm, ctx))
            return 0;
        // bpf_xdp_pointer's checks, in its order.
        if ((uint)offset > 0xffff || (uint)length > 0xffff)
            return HelperArguments.Error(Errno.EFAULT);
        var size = (int)(uint)length;
        if ((uint)offset + (uint)size > (uint)vm.Xdp->Length)
            return HelperArguments.Error(Errno.EINVAL);
        if (!HelperArguments.Memory(vm, buffer, size, write: !toPacket))
            return 0;
        var packet = vm.Xdp->Data + (uint)offset;
        if (toPacket)
            Buffer.MemoryCopy((void*)buffer, packet, size, size);
        else
            Buffer.MemoryCopy(packet, (void*)buffer, size, size);
        return 0;
    }
}
