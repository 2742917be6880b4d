using XdpGate.Bpf.Maps;
using XdpGate.Uapi;

namespace XdpGate.Benchmarks;

/// <summary>
/// Synthetic routing tables for the LPM trie benchmarks, seeded so that every run measures the same table.
/// </summary>
/// <remarks>
/// IPv4: prefix lengths roughly as in a full BGP table (60% /24, 15% /22-/23, 10% /20-/21, 9% /16-/19, 1% /8-/15,
/// 5% /25-/32), at uniformly random unicast addresses: no clustering at all, the worst case for the trie's memory and
/// for the caches. IPv6: prefixes inside 2000::/3, under 40 random /12 registry blocks and 12,000 random /32
/// allocations, lengths mostly /48 with /29-/64 around them, as the IPv6 table looks. Lookup addresses are half inside
/// a random stored prefix (hits), half random (IPv4: anywhere; IPv6: in 2000::/3, nearly all misses).
/// </remarks>
internal static class LpmTables
{
    public static (byte[] Data, int Length)[] Prefixes(string table) => table switch
    {
        "ipv4-1k" => IPv4(1_000),
        "ipv4-100k" => IPv4(100_000),
        "ipv4-1m" => IPv4(1_000_000),
        "ipv6-100k" => IPv6(100_000),
        _ => throw new ArgumentException($"unknown table '{table}'", nameof(table)),
    };

    public static LpmTrieMap NewMap(string table, int count)
    {
        var dataSize = table.StartsWith("ipv6", StringComparison.Ordinal) ? 16 : 4;
        return new LpmTrieMap(new MapDefinition(table, bpf_map_type.BPF_MAP_TYPE_LPM_TRIE, (uint)(4 + dataSize), 8, (uint)count, MapFlags.BPF_F_NO_PREALLOC));
    }

    public static unsafe void Fill(LpmTrieMap map, (byte[] Data, int Length)[] prefixes)
    {
        var key = stackalloc byte[map.KeySize];
        ulong value = 0;
        foreach (var (data, length) in prefixes)
        {
            *(uint*)key = (uint)length;
            data.CopyTo(new Span<byte>(key + 4, data.Length));
            value++;
            if (map.UpdateElem(key, (byte*)&value, MapFlags.BPF_ANY, 0) != 0)
                throw new InvalidOperationException($"update {value} of {map.Name} failed");
        }
    }

    /// <summary>Full-width lookup keys, back to back.</summary>
    public static byte[] LookupKeys((byte[] Data, int Length)[] prefixes, int count, int seed = 7)
    {
        var rng = new Random(seed);
        var dataSize = prefixes[0].Data.Length;
        var keySize = 4 + dataSize;
        var keys = new byte[count * keySize];
        var data = new byte[dataSize];
        for (var i = 0; i < count; i++)
        {
            rng.NextBytes(data);
            if (i % 2 == 0)
            {
                var (prefix, length) = prefixes[rng.Next(prefixes.Length)];
                Overlay(data, prefix, length);
            }
            else if (dataSize == 16)
            {
                data[0] = (byte)(0x20 | (data[0] & 0x1f));
            }
            BitConverter.TryWriteBytes(keys.AsSpan(i * keySize), dataSize * 8);
            data.CopyTo(keys, i * keySize + 4);
        }
        return keys;
    }

    private static (byte[], int)[] IPv4(int count)
    {
        var rng = new Random(4);
        var result = new (byte[], int)[count];
        var seen = new HashSet<(uint, int)>();
        for (var i = 0; i < count;)
        {
            var roll = rng.Next(100);
            var length = roll switch
            {
                < 60 => 24,
                < 75 => rng.Next(22, 24),
                < 85 => rng.Next(20, 22),
                < 94 => rng.Next(16, 20),
                < 95 => rng.Next(8, 16),
                _ => rng.Next(25, 33),
            };
            var address = (uint)rng.NextInt64(0x0100_0000, 0xe000_0000) & uint.MaxValue << (32 - length);
            if (seen.Add((address, length)))
                result[i++] = ([(byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address], length);
        }
        return result;
    }

    private static (byte[], int)[] IPv6(int count)
    {
        var rng = new Random(6);
        var blocks = Enumerable.Range(0, 40).Select(_ => Random(rng, [0x20, 0], 3, 12)).ToArray();
        var allocations = Enumerable.Range(0, 12_000).Select(_ => Random(rng, blocks[rng.Next(blocks.Length)], 12, 32)).ToArray();
        var result = new (byte[], int)[count];
        var seen = new HashSet<string>();
        for (var i = 0; i < count;)
        {
            var roll = rng.Next(100);
            var length = roll switch
            {
                < 55 => 48,
                < 70 => 32,
                < 78 => 44,
                < 85 => 40,
                < 88 => 36,
                < 90 => 29,
                < 95 => rng.Next(45, 48),
                < 98 => 56,
                _ => 64,
            };
            var allocation = allocations[rng.Next(allocations.Length)];
            var data = length <= 32 ? Random(rng, allocation, 12, length) : Random(rng, allocation, 32, length);
            if (seen.Add($"{Convert.ToHexString(data)}/{length}"))
                result[i++] = (data, length);
        }
        return result;
    }

    /// <summary>16 bytes: the first <paramref name="keep"/> bits of <paramref name="under"/>, random bits up to <paramref name="length"/>, zeros after.</summary>
    private static byte[] Random(Random rng, byte[] under, int keep, int length)
    {
        var data = new byte[16];
        rng.NextBytes(data);
        Overlay(data, under, keep);
        for (var bit = length; bit < 128; bit++)
            data[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
        return data;
    }

    /// <summary>Copies the first <paramref name="length"/> bits of <paramref name="prefix"/> over <paramref name="data"/>.</summary>
    private static void Overlay(byte[] data, byte[] prefix, int length)
    {
        for (var bit = 0; bit < length; bit++)
        {
            var mask = (byte)(0x80 >> (bit & 7));
            data[bit >> 3] = (byte)((data[bit >> 3] & ~mask) | (prefix[bit >> 3] & mask));
        }
    }
}
