using System.Buffers.Binary;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Maps;

/// <summary>Keys, values and maps for the hash map tests.</summary>
internal static unsafe class HashMapTestKit
{
    public static readonly bpf_map_type[] HashTypes =
    [
        bpf_map_type.BPF_MAP_TYPE_HASH,
        bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH,
        bpf_map_type.BPF_MAP_TYPE_LRU_HASH,
        bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH,
    ];

    public static TheoryData<bpf_map_type> AllTypes() => new(HashTypes);

    public static TheoryData<bpf_map_type> LruTypes() =>
        new(bpf_map_type.BPF_MAP_TYPE_LRU_HASH, bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH);

    public static TheoryData<bpf_map_type> NonLruTypes() =>
        new(bpf_map_type.BPF_MAP_TYPE_HASH, bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH);

    public static HashMap Create(bpf_map_type type, uint keySize = 4, uint valueSize = 8, uint maxEntries = 16,
        uint flags = 0, int cpus = 4, string name = "test_map") =>
        new(new MapDefinition(name, type, keySize, valueSize, maxEntries, flags), cpus);

    public static byte[] Key(uint k)
    {
        var key = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(key, k);
        return key;
    }

    public static byte[] Key64(ulong k)
    {
        var key = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(key, k);
        return key;
    }

    /// <summary>A control-plane value: <paramref name="v"/> in every 8-byte word (every CPU slot for per-CPU maps).</summary>
    public static byte[] Value(BpfMap map, ulong v)
    {
        var value = new byte[map.UserValueSize];
        Fill(value, v);
        return value;
    }

    public static void Fill(Span<byte> value, ulong v)
    {
        for (var i = 0; i + 8 <= value.Length; i += 8)
            BinaryPrimitives.WriteUInt64LittleEndian(value[i..], v);
        for (var i = value.Length & ~7; i < value.Length; i++)
            value[i] = (byte)v;
    }

    public static ulong Word(ReadOnlySpan<byte> value, int index = 0) =>
        BinaryPrimitives.ReadUInt64LittleEndian(value[(index * 8)..]);

    /// <summary>The first word of the value the map holds for <paramref name="key"/>, or null when it has none.</summary>
    public static ulong? Get(BpfMap map, byte[] key)
    {
        var value = new byte[map.UserValueSize];
        return map.Lookup(key, value) == 0 ? Word(value) : null;
    }

    public static List<byte[]> Keys(BpfMap map)
    {
        var keys = new List<byte[]>();
        var key = Array.Empty<byte>();
        var next = new byte[map.KeySize];
        while (map.GetNextKey(key, next) == 0)
        {
            key = (byte[])next.Clone();
            keys.Add(key);
        }
        return keys;
    }

    public static int ProgramUpdate(BpfMap map, byte[] key, byte[] value, ulong flags = MapFlags.BPF_ANY, int cpu = 0)
    {
        fixed (byte* k = key)
        fixed (byte* v = value)
            return map.UpdateElem(k, v, flags, cpu);
    }

    public static nint ProgramLookup(BpfMap map, byte[] key, int cpu = 0)
    {
        fixed (byte* k = key)
            return (nint)map.LookupElem(k, cpu);
    }

    public static int ProgramDelete(BpfMap map, byte[] key)
    {
        fixed (byte* k = key)
            return map.DeleteElem(k);
    }
}
