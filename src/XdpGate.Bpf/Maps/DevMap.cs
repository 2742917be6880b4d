using System.Runtime.InteropServices;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_DEVMAP: bpf_redirect_map's table of egress ports. The key is a u32 slot; the value is
/// <c>struct bpf_devmap_val</c> (u32 ifindex, optionally followed by a u32 program fd/id). Programs may look entries
/// up but only read them; the control plane fills them. Egress programs in entries are not supported yet.
/// </summary>
public sealed unsafe class DevMap : BpfMap, IDeviceMap
{
    private readonly bool[] present;
    private byte* storage;

    public DevMap(MapDefinition definition, int possibleCpus = 1) : base(definition, possibleCpus)
    {
        MapChecks.Require(definition, definition.Type == bpf_map_type.BPF_MAP_TYPE_DEVMAP, "is not a devmap");
        MapChecks.Require(definition, definition.KeySize == 4, $"key_size must be 4, is {definition.KeySize}");
        MapChecks.Require(definition, definition.ValueSize is 4 or 8, $"value_size must be 4 or 8 (struct bpf_devmap_val), is {definition.ValueSize}");
        MapChecks.RequireCommon(definition, MapFlags.BPF_F_NUMA_NODE | MapFlags.BPF_F_RDONLY | MapFlags.BPF_F_WRONLY | MapFlags.BPF_F_RDONLY_PROG);
        present = new bool[MaxEntries];
        var bytes = (nuint)MaxEntries * 8;
        storage = (byte*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(storage, bytes);
        ValueRegion = new MemoryRegion((nint)storage, (nint)bytes, Writable: false);
    }

    public override MemoryRegion ValueRegion { get; }

    /// <summary>The ifindex in a slot, or 0 when the slot is empty.</summary>
    public uint Ifindex(uint key) => key < (uint)MaxEntries && Volatile.Read(ref present[key]) ? Volatile.Read(ref *(uint*)(storage + (nint)key * 8)) : 0;

    public override byte* LookupElem(byte* key, int cpu)
    {
        var index = *(uint*)key;
        return index < (uint)MaxEntries && Volatile.Read(ref present[index]) ? storage + (nint)index * 8 : null;
    }

    public override int UpdateElem(byte* key, byte* value, ulong flags, int cpu) => -Errno.EOPNOTSUPP;
    public override int DeleteElem(byte* key) => -Errno.EOPNOTSUPP;

    public override int Lookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckSizes(key, value.Length);
        var index = MemoryMarshal.Read<uint>(key);
        if (index >= (uint)MaxEntries || !Volatile.Read(ref present[index]))
            return -Errno.ENOENT;
        value.Clear();
        MemoryMarshal.Write(value, Volatile.Read(ref *(uint*)(storage + (nint)index * 8)));
        return 0;
    }

    protected override int UpdateValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        CheckSizes(key, value.Length);
        var index = MemoryMarshal.Read<uint>(key);
        var check = ArrayKeys.CheckUpdate(index, MaxEntries, flags, lockFlagAllowed: false);
        if (check != 0)
            return check;
        var ifindex = MemoryMarshal.Read<uint>(value);
        if (ifindex == 0)
            return -Errno.EINVAL;
        if (value.Length == 8 && MemoryMarshal.Read<uint>(value[4..]) != 0)
            return -Errno.EOPNOTSUPP;
        // Publish the value before the presence flag, so a lock-free reader never sees a present slot without its ifindex.
        Volatile.Write(ref *(uint*)(storage + (nint)index * 8), ifindex);
        Volatile.Write(ref present[index], true);
        return 0;
    }

    protected override int DeleteValue(ReadOnlySpan<byte> key)
    {
        CheckKeySize(key);
        var index = MemoryMarshal.Read<uint>(key);
        if (index >= (uint)MaxEntries)
            return -Errno.E2BIG;
        if (!Volatile.Read(ref present[index]))
            return -Errno.ENOENT;
        Volatile.Write(ref present[index], false);
        return 0;
    }

    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => ArrayKeys.GetNext(key, MaxEntries, nextKey);

    protected override void Dispose(bool disposing)
    {
        if (storage is not null)
        {
            NativeMemory.AlignedFree(storage);
            storage = null;
        }
        base.Dispose(disposing);
    }
}
