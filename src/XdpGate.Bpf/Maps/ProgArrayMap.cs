using System.Runtime.InteropServices;
using XdpGate.Bpf.Program;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_PROG_ARRAY: the jump table of bpf_tail_call. Slots hold programs, all of one program type (as the
/// kernel requires). From the control plane a value is the program's id; programs cannot look slots up.
/// </summary>
public sealed unsafe class ProgArrayMap : BpfMap
{
    private readonly BpfProgram?[] programs;
    private bpf_prog_type? ownerType;

    public ProgArrayMap(MapDefinition definition, int possibleCpus = 1) : base(definition, possibleCpus)
    {
        MapChecks.Require(definition, definition.Type == bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY, "is not a program array");
        MapChecks.Require(definition, definition.KeySize == 4, $"key_size must be 4, is {definition.KeySize}");
        MapChecks.Require(definition, definition.ValueSize == 4, $"value_size must be 4, is {definition.ValueSize}");
        MapChecks.RequireCommon(definition, MapFlags.BPF_F_NUMA_NODE | MapFlags.BPF_F_RDONLY | MapFlags.BPF_F_WRONLY);
        programs = new BpfProgram?[MaxEntries];
    }

    public override MemoryRegion ValueRegion => MemoryRegion.Empty;

    /// <summary>The program in a slot, read without locking (slots are swapped atomically).</summary>
    public BpfProgram? GetProgram(uint index) => index < (uint)programs.Length ? Volatile.Read(ref programs[index]) : null;

    /// <summary>Puts a program in a slot (null empties it); 0, -E2BIG past max_entries, -EINVAL for a program of another type.</summary>
    public int SetProgram(uint index, BpfProgram? program)
    {
        if (index >= (uint)programs.Length)
            return -Errno.E2BIG;
        if (program is not null)
        {
            lock (programs)
            {
                ownerType ??= program.Type;
                if (ownerType != program.Type)
                    return -Errno.EINVAL;
            }
        }
        Volatile.Write(ref programs[index], program);
        return 0;
    }

    // Programs may only tail-call through a program array, never look into it or change it.
    public override byte* LookupElem(byte* key, int cpu) => null;
    public override int UpdateElem(byte* key, byte* value, ulong flags, int cpu) => -Errno.EOPNOTSUPP;
    public override int DeleteElem(byte* key) => -Errno.EOPNOTSUPP;

    public override int Lookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckSizes(key, value.Length);
        if (GetProgram(MemoryMarshal.Read<uint>(key)) is not { } program)
            return -Errno.ENOENT;
        MemoryMarshal.Write(value, program.Id);
        return 0;
    }

    protected override int UpdateValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        CheckSizes(key, value.Length);
        // Like every fd array in the kernel: only BPF_ANY.
        if (flags != MapFlags.BPF_ANY)
            return -Errno.EINVAL;
        var index = MemoryMarshal.Read<uint>(key);
        if (index >= (uint)programs.Length)
            return -Errno.E2BIG;
        var program = BpfProgram.FromId(MemoryMarshal.Read<int>(value));
        return program is null ? -Errno.EBADF : SetProgram(index, program);
    }

    protected override int DeleteValue(ReadOnlySpan<byte> key)
    {
        CheckKeySize(key);
        var index = MemoryMarshal.Read<uint>(key);
        if (index >= (uint)programs.Length)
            return -Errno.E2BIG;
        return Interlocked.Exchange(ref programs[index], null) is null ? -Errno.ENOENT : 0;
    }

    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => ArrayKeys.GetNext(key, MaxEntries, nextKey);
}
