using System.Runtime.InteropServices;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_DEVMAP_HASH: like <see cref="DevMap"/> but keyed by any u32 (commonly the ifindex itself), stored in
/// a hash map. Programs may look entries up and redirect through them; only the control plane changes them.
/// </summary>
public sealed unsafe class DevMapHash : BpfMap, IDeviceMap
{
    private readonly HashMap entries;

    public DevMapHash(MapDefinition definition, int possibleCpus = 1) : base(definition, possibleCpus)
    {
        MapChecks.Require(definition, definition.Type == bpf_map_type.BPF_MAP_TYPE_DEVMAP_HASH, "is not a devmap_hash");
        MapChecks.Require(definition, definition.KeySize == 4, $"key_size must be 4, is {definition.KeySize}");
        MapChecks.Require(definition, definition.ValueSize is 4 or 8, $"value_size must be 4 or 8 (struct bpf_devmap_val), is {definition.ValueSize}");
        MapChecks.RequireCommon(definition, MapFlags.BPF_F_NUMA_NODE | MapFlags.BPF_F_RDONLY | MapFlags.BPF_F_WRONLY | MapFlags.BPF_F_RDONLY_PROG);
        // The kernel makes devmap values read-only to programs whatever the flags say.
        entries = new HashMap(definition with { Type = bpf_map_type.BPF_MAP_TYPE_HASH, Flags = MapFlags.BPF_F_RDONLY_PROG }, possibleCpus);
    }

    public override MemoryRegion ValueRegion => entries.ValueRegion;

    public uint Ifindex(uint key)
    {
        var value = entries.LookupElem((byte*)&key, 0);
        return value is null ? 0 : Volatile.Read(ref *(uint*)value);
    }

    public override byte* LookupElem(byte* key, int cpu) => entries.LookupElem(key, cpu);
    public override int UpdateElem(byte* key, byte* value, ulong flags, int cpu) => -Errno.EOPNOTSUPP;
    public override int DeleteElem(byte* key) => -Errno.EOPNOTSUPP;
    public override int Lookup(ReadOnlySpan<byte> key, Span<byte> value) => entries.Lookup(key, value);

    protected override int UpdateValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        CheckSizes(key, value.Length);
        if (MemoryMarshal.Read<uint>(value) == 0)
            return -Errno.EINVAL;
        if (value.Length == 8 && MemoryMarshal.Read<uint>(value[4..]) != 0)
            return -Errno.EOPNOTSUPP;
        return entries.Update(key, value, flags);
    }

    protected override int DeleteValue(ReadOnlySpan<byte> key) => entries.Delete(key);
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => entries.GetNextKey(key, nextKey);

    protected override void Dispose(bool disposing)
    {
        entries.Dispose();
        base.Dispose(disposing);
    }
}
