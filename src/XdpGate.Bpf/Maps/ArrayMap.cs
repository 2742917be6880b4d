using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY: max_entries preallocated values indexed by a u32 key; elements
/// always exist and cannot be deleted. Per-CPU values are laid out CPU-major, so one CPU's slots are contiguous
/// and a worker's slot address is a fixed base plus index arithmetic (what a per-core JIT inlines).
/// </summary>
public sealed unsafe class ArrayMap : BpfMap, IDirectValueMap
{
    private const uint AllowedFlags = MapFlags.BPF_F_NUMA_NODE | MapFlags.BPF_F_MMAPABLE | MapFlags.BPF_F_RDONLY
        | MapFlags.BPF_F_WRONLY | MapFlags.BPF_F_RDONLY_PROG | MapFlags.BPF_F_WRONLY_PROG | MapFlags.BPF_F_INNER_MAP;
    /// <summary>The kernel's per-CPU allocator limit (PCPU_MIN_UNIT_SIZE).</summary>
    private const uint MaxPerCpuValueSize = 32 * 1024;

    private readonly bool perCpu;
    private readonly int elementSize;
    private readonly nint cpuStride;
    private SeqLock locks; // not readonly: Free clears it in place
    private byte* storage;

    public ArrayMap(MapDefinition definition, int possibleCpus = 1) : base(definition, possibleCpus)
    {
        perCpu = definition.Type == bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY;
        MapChecks.Require(definition, definition.Type is bpf_map_type.BPF_MAP_TYPE_ARRAY or bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY,
            "is not an array map type");
        MapChecks.Require(definition, definition.KeySize == 4, $"key_size must be 4, is {definition.KeySize}");
        MapChecks.RequireCommon(definition, AllowedFlags);
        if (perCpu)
            MapChecks.Require(definition, definition.ValueSize <= MaxPerCpuValueSize, $"value_size {definition.ValueSize} exceeds the per-CPU limit {MaxPerCpuValueSize}", Errno.E2BIG);
        elementSize = RoundUp8(ValueSize);
        cpuStride = (nint)elementSize * MaxEntries;
        var slots = perCpu ? PossibleCpus : 1;
        var bytes = checked((nuint)cpuStride * (nuint)slots);
        storage = (byte*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(storage, bytes);
        locks = SeqLock.Allocate(MaxEntries);
        ValueRegion = new MemoryRegion((nint)storage, (nint)bytes, Writable: (definition.Flags & MapFlags.BPF_F_RDONLY_PROG) == 0);
    }

    public override bool IsPerCpu => perCpu;

    public override MemoryRegion ValueRegion { get; }

    /// <summary>Where CPU <paramref name="cpu"/>'s values start; value i is at this plus i * RoundUp8(value_size).</summary>
    public byte* SlotBase(int cpu) => storage + (perCpu ? cpuStride * cpu : 0);

    public int ElementSize => elementSize;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override byte* LookupElem(byte* key, int cpu)
    {
        var index = *(uint*)key;
        if (index >= (uint)MaxEntries)
            return null;
        return SlotBase(cpu) + (nint)index * elementSize;
    }

    public override int UpdateElem(byte* key, byte* value, ulong flags, int cpu)
    {
        var index = *(uint*)key;
        var check = CheckUpdate(index, flags);
        if (check != 0)
            return check;
        var token = locks.BeginWrite(index);
        Buffer.MemoryCopy(value, SlotBase(cpu) + (nint)index * elementSize, ValueSize, ValueSize);
        locks.EndWrite(index, token);
        return 0;
    }

    public override int DeleteElem(byte* key) => -Errno.EINVAL;

    public override int Lookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckSizes(key, value.Length);
        var index = MemoryMarshal.Read<uint>(key);
        if (index >= (uint)MaxEntries)
            return -Errno.ENOENT;
        var attempts = 0;
        ulong token;
        do
        {
            token = locks.ReadBegin(index, ref attempts);
            CopyOut(index, value);
        }
        while (locks.ReadRetry(index, token));
        return 0;
    }

    protected override int UpdateValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        CheckSizes(key, value.Length);
        var index = MemoryMarshal.Read<uint>(key);
        var check = CheckUpdate(index, flags);
        if (check != 0)
            return check;
        var token = locks.BeginWrite(index);
        var slots = perCpu ? PossibleCpus : 1;
        for (var cpu = 0; cpu < slots; cpu++)
            value.Slice(cpu * (perCpu ? elementSize : 0), ValueSize).CopyTo(new Span<byte>(SlotBase(cpu) + (nint)index * elementSize, ValueSize));
        locks.EndWrite(index, token);
        return 0;
    }

    protected override int DeleteValue(ReadOnlySpan<byte> key)
    {
        CheckKeySize(key);
        return -Errno.EINVAL;
    }

    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => ArrayKeys.GetNext(key, MaxEntries, nextKey);

    public bool HasDirectValue => !perCpu && MaxEntries == 1;

    public nint DirectValueAddress(uint offset) =>
        HasDirectValue && offset < (uint)ValueSize ? (nint)(storage + offset) : 0;

    private int CheckUpdate(uint index, ulong flags)
    {
        var check = ArrayKeys.CheckUpdate(index, MaxEntries, flags, lockFlagAllowed: true);
        // BPF_F_LOCK needs a struct bpf_spin_lock in the value (BTF-described); values here never have one.
        return check == 0 && (flags & MapFlags.BPF_F_LOCK) != 0 ? -Errno.EINVAL : check;
    }

    private void CopyOut(uint index, Span<byte> value)
    {
        var slots = perCpu ? PossibleCpus : 1;
        for (var cpu = 0; cpu < slots; cpu++)
        {
            var target = value.Slice(cpu * (perCpu ? elementSize : 0), perCpu ? elementSize : ValueSize);
            new ReadOnlySpan<byte>(SlotBase(cpu) + (nint)index * elementSize, target.Length).CopyTo(target);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (storage is not null)
        {
            NativeMemory.AlignedFree(storage);
            storage = null;
            locks.Free();
        }
        base.Dispose(disposing);
    }
}
