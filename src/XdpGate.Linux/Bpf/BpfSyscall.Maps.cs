using XdpGate.Uapi;
using static XdpGate.Linux.Bpf.bpf_cmd;

namespace XdpGate.Linux.Bpf;

/// <summary>The map commands: create, and the element commands that copy keys and values.</summary>
public static unsafe partial class BpfSyscall
{
    /// <summary>
    /// Bytes of a value as bpf() copies it (the kernel's bpf_map_value_size): round_up(value_size, 8) per possible CPU
    /// for per-CPU maps, value_size otherwise.
    /// </summary>
    public static int UserValueSize(uint mapType, uint valueSize) => (bpf_map_type)mapType switch
    {
        bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH or bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH
            or bpf_map_type.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
            => checked((int)((valueSize + 7) & ~7u) * PossibleCpus.Count),
        _ => checked((int)valueSize),
    };

    /// <summary>BPF_MAP_CREATE. <paramref name="name"/> is at most 15 bytes of letters, digits, '_' and '.'.</summary>
    public static BpfMapFd MapCreate(uint mapType, uint keySize, uint valueSize, uint maxEntries, uint mapFlags = 0, string? name = null)
    {
        name ??= "";
        var attr = new bpf_attr_map_create
        {
            map_type = mapType,
            key_size = keySize,
            value_size = valueSize,
            max_entries = maxEntries,
            map_flags = mapFlags,
        };
        CopyName(name, attr.map_name, nameof(name));
        var fd = Invoke(BPF_MAP_CREATE, &attr, sizeof(bpf_attr_map_create));
        if (fd < 0)
            throw new BpfSyscallException(BPF_MAP_CREATE, fd,
                $"map '{name}' type {mapType} key_size {keySize} value_size {valueSize} max_entries {maxEntries} map_flags 0x{mapFlags:x}");
        return new BpfMapFd(fd, mapType, keySize, valueSize, maxEntries, mapFlags, name, UserValueSize(mapType, valueSize));
    }

    /// <summary>BPF_MAP_LOOKUP_ELEM: copies the value (every CPU's slot for per-CPU maps); false when the key has none.</summary>
    public static bool MapLookup(BpfMapFd map, ReadOnlySpan<byte> key, Span<byte> value, ulong flags = 0)
    {
        CheckKey(map, key);
        CheckValue(map, value.Length);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var result = Elem(BPF_MAP_LOOKUP_ELEM, map, k, v, flags);
            return result == 0 || Refuse(BPF_MAP_LOOKUP_ELEM, result, map, allowed: Errno.ENOENT);
        }
    }

    /// <summary>BPF_MAP_UPDATE_ELEM with BPF_ANY, BPF_NOEXIST or BPF_EXIST (see <see cref="bpf_defines"/>).</summary>
    public static void MapUpdate(BpfMapFd map, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = bpf_defines.BPF_ANY)
    {
        CheckKey(map, key);
        CheckValue(map, value.Length);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var result = Elem(BPF_MAP_UPDATE_ELEM, map, k, v, flags);
            if (result != 0)
                Refuse(BPF_MAP_UPDATE_ELEM, result, map);
        }
    }

    /// <summary>BPF_MAP_DELETE_ELEM; false when the key had no element.</summary>
    public static bool MapDelete(BpfMapFd map, ReadOnlySpan<byte> key)
    {
        CheckKey(map, key);
        fixed (byte* k = key)
        {
            var result = Elem(BPF_MAP_DELETE_ELEM, map, k, null, 0);
            return result == 0 || Refuse(BPF_MAP_DELETE_ELEM, result, map, allowed: Errno.ENOENT);
        }
    }

    /// <summary>
    /// BPF_MAP_FREEZE: user space can no longer write the map (updates and deletes fail with EPERM); with
    /// BPF_F_RDONLY_PROG its contents are then constants the verifier reads (libbpf does this to .rodata).
    /// </summary>
    public static void MapFreeze(BpfMapFd map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var result = Elem(BPF_MAP_FREEZE, map, null, null, 0);
        if (result != 0)
            Refuse(BPF_MAP_FREEZE, result, map);
    }

    /// <summary>
    /// BPF_MAP_GET_NEXT_KEY: the key after <paramref name="key"/>, or the first key when <paramref name="key"/> is empty;
    /// false after the last key.
    /// </summary>
    public static bool MapGetNextKey(BpfMapFd map, ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (!key.IsEmpty)
            CheckKey(map, key);
        if (nextKey.Length != map.KeySize)
            throw new ArgumentException($"{map}: next key buffer is {nextKey.Length} bytes, the map's key_size is {map.KeySize}", nameof(nextKey));
        fixed (byte* k = key)
        fixed (byte* n = nextKey)
        {
            // A NULL key asks for the first key.
            var result = Elem(BPF_MAP_GET_NEXT_KEY, map, key.IsEmpty ? null : k, n, 0);
            return result == 0 || Refuse(BPF_MAP_GET_NEXT_KEY, result, map, allowed: Errno.ENOENT);
        }
    }

    /// <summary>Every element, walked with BPF_MAP_GET_NEXT_KEY and read with BPF_MAP_LOOKUP_ELEM.</summary>
    public static List<KeyValuePair<byte[], byte[]>> MapEntries(BpfMapFd map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var entries = new List<KeyValuePair<byte[], byte[]>>();
        var key = Array.Empty<byte>();
        var next = new byte[map.KeySize];
        while (MapGetNextKey(map, key, next))
        {
            key = (byte[])next.Clone();
            var value = new byte[map.UserValueSize];
            // An element deleted between the two calls is simply not listed.
            if (MapLookup(map, key, value))
                entries.Add(new(key, value));
        }
        return entries;
    }

    private static int Elem(bpf_cmd cmd, BpfMapFd map, byte* key, byte* valueOrNextKey, ulong flags)
    {
        using var lease = map.Use();
        var attr = new bpf_attr_map_elem
        {
            map_fd = (uint)lease.Fd,
            key = (ulong)key,
            value = (ulong)valueOrNextKey,
            flags = flags,
        };
        return Invoke(cmd, &attr, sizeof(bpf_attr_map_elem));
    }

    /// <summary>False for the one errno the caller expects; throws for any other.</summary>
    private static bool Refuse(bpf_cmd cmd, int result, BpfMapFd map, int allowed = 0)
    {
        if (allowed != 0 && result == -allowed)
            return false;
        throw new BpfSyscallException(cmd, result, map.ToString());
    }

    private static void CheckKey(BpfMapFd map, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (key.Length != map.KeySize)
            throw new ArgumentException($"{map}: key is {key.Length} bytes, the map's key_size is {map.KeySize}", nameof(key));
    }

    // bpf() copies exactly the map's user value size to or from the buffer, so any other length is refused here.
    private static void CheckValue(BpfMapFd map, int length)
    {
        if (length != map.UserValueSize)
            throw new ArgumentException($"{map}: value is {length} bytes, bpf() copies {map.UserValueSize}", "value");
    }

}
