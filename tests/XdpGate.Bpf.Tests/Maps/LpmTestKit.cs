using System.Buffers.Binary;
using System.Net;
using XdpGate.Bpf.Maps.Lpm;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Maps;

/// <summary>Keys, maps and a reference longest-prefix match for the LPM trie tests.</summary>
internal static class LpmTestKit
{
    public static LpmTrieMap NewMap(string name = "lpm", int dataSize = 4, int valueSize = 8, uint maxEntries = 1024, TrieShape? shape = null) =>
        new(new MapDefinition(name, bpf_map_type.BPF_MAP_TYPE_LPM_TRIE, (uint)(4 + dataSize), (uint)valueSize, maxEntries, MapFlags.BPF_F_NO_PREALLOC), 1, shape);

    /// <summary>A key from "a.b.c.d/len" or "x::y/len"; without "/len" the full width.</summary>
    public static byte[] Key(string cidr)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        var data = IPAddress.Parse(slash < 0 ? cidr : cidr[..slash]).GetAddressBytes();
        return Key(data, slash < 0 ? data.Length * 8 : int.Parse(cidr[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public static byte[] Key(string address, int prefixlen) => Key(IPAddress.Parse(address).GetAddressBytes(), prefixlen);

    public static byte[] Key(ReadOnlySpan<byte> data, int prefixlen)
    {
        var key = new byte[4 + data.Length];
        BitConverter.TryWriteBytes(key, (uint)prefixlen);
        data.CopyTo(key.AsSpan(4));
        return key;
    }

    public static byte[] Value(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    public static int Put(this BpfMap map, string cidr, ulong value, ulong flags = MapFlags.BPF_ANY) => map.Update(Key(cidr), Value(value), flags);

    /// <summary>Control-plane lookup: the value, or null for -ENOENT.</summary>
    public static ulong? Get(this BpfMap map, byte[] key)
    {
        var value = new byte[map.ValueSize];
        var result = map.Lookup(key, value);
        if (result == -Errno.ENOENT)
            return null;
        Assert.Equal(0, result);
        return BinaryPrimitives.ReadUInt64LittleEndian(value);
    }

    public static ulong? Get(this BpfMap map, string cidr) => map.Get(Key(cidr));

    /// <summary>Program-side lookup through the returned pointer, which must lie in the map's value region.</summary>
    public static unsafe ulong? ProgramGet(this BpfMap map, byte[] key)
    {
        fixed (byte* k = key)
        {
            var value = map.LookupElem(k, 0);
            if (value is null)
                return null;
            Assert.True(map.ValueRegion.Contains((ulong)value, map.ValueSize));
            return *(ulong*)value;
        }
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
            Assert.True(keys.Count <= map.MaxEntries + 1, "iteration does not end");
        }
        return keys;
    }

    public static string Format(byte[] key) =>
        $"{new IPAddress(key.AsSpan(4).ToArray())}/{BitConverter.ToUInt32(key)}";

    public static bool Bit(ReadOnlySpan<byte> data, int index) => (data[index >> 3] & (0x80 >> (index & 7))) != 0;

    /// <summary>Whether the first <paramref name="length"/> bits of two bit strings agree.</summary>
    public static bool SamePrefix(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int length)
    {
        for (var i = 0; i < length; i++)
        {
            if (Bit(a, i) != Bit(b, i))
                return false;
        }
        return true;
    }

    /// <summary>Copies <paramref name="data"/> with every bit from <paramref name="length"/> on cleared.</summary>
    public static byte[] Mask(ReadOnlySpan<byte> data, int length)
    {
        var masked = data.ToArray();
        for (var i = length; i < masked.Length * 8; i++)
            masked[i >> 3] &= (byte)~(0x80 >> (i & 7));
        return masked;
    }
}

/// <summary>The obviously correct model: a list of prefixes scanned in full for every lookup.</summary>
internal sealed class ReferenceLpm
{
    private readonly Dictionary<string, (byte[] Data, int Length, ulong Value)> prefixes = [];

    public int Count => prefixes.Count;

    public IEnumerable<(byte[] Data, int Length, ulong Value)> Prefixes => prefixes.Values;

    private static string Id(ReadOnlySpan<byte> data, int length) => $"{Convert.ToHexString(LpmTestKit.Mask(data, length))}/{length}";

    public bool Contains(ReadOnlySpan<byte> data, int length) => prefixes.ContainsKey(Id(data, length));

    public void Set(ReadOnlySpan<byte> data, int length, ulong value) => prefixes[Id(data, length)] = (data.ToArray(), length, value);

    public bool Remove(ReadOnlySpan<byte> data, int length) => prefixes.Remove(Id(data, length));

    public ulong? Lookup(ReadOnlySpan<byte> address, int prefixlen)
    {
        var bestLength = -1;
        ulong best = 0;
        foreach (var (data, length, value) in prefixes.Values)
        {
            if (length <= prefixlen && length > bestLength && LpmTestKit.SamePrefix(data, address, length))
            {
                bestLength = length;
                best = value;
            }
        }
        return bestLength < 0 ? null : best;
    }

    /// <summary>The kernel's get_next_key order: post-order over the binary trie (more specific first, 0-branch first).</summary>
    public static int PostOrder((byte[] Data, int Length) a, (byte[] Data, int Length) b)
    {
        var common = Math.Min(a.Length, b.Length);
        for (var i = 0; i < common; i++)
        {
            var bitA = LpmTestKit.Bit(a.Data, i);
            if (bitA != LpmTestKit.Bit(b.Data, i))
                return bitA ? 1 : -1;
        }
        return b.Length.CompareTo(a.Length);
    }
}
