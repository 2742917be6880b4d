using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;

namespace XdpGate.Bpf.Helpers;

/// <summary>bpf_map_lookup_elem, bpf_map_update_elem, bpf_map_delete_elem.</summary>
internal static unsafe class MapHelpers
{
    public static ulong Lookup(BpfVm vm, ulong mapHandle, ulong key, ulong unused3, ulong unused4, ulong unused5)
    {
        var map = HelperArguments.Map(vm, mapHandle);
        if (map is null || !HelperArguments.Memory(vm, key, map.KeySize, write: false))
            return 0;
        return (ulong)map.LookupElem((byte*)key, vm.ProcessorId);
    }

    public static ulong Update(BpfVm vm, ulong mapHandle, ulong key, ulong value, ulong flags, ulong unused5)
    {
        var map = HelperArguments.Map(vm, mapHandle);
        if (map is null
            || !HelperArguments.Memory(vm, key, map.KeySize, write: false)
            || !HelperArguments.Memory(vm, value, map.ValueSize, write: false))
            return 0;
        return (ulong)(long)map.UpdateElem((byte*)key, (byte*)value, flags, vm.ProcessorId);
    }

    public static ulong Delete(BpfVm vm, ulong mapHandle, ulong key, ulong unused3, ulong unused4, ulong unused5)
    {
        var map = HelperArguments.Map(vm, mapHandle);
        if (map is null || !HelperArguments.Memory(vm, key, map.KeySize, write: false))
            return 0;
        return (ulong)(long)map.DeleteElem((byte*)key);
    }
}
