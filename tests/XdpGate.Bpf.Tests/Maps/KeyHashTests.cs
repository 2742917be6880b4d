using System.Buffers.Binary;
using XdpGate.Bpf.Maps;
using Xunit;

namespace XdpGate.Bpf.Tests.Maps;

public unsafe class KeyHashTests
{
    /// <summary>Fills 2^16 buckets with 2^16 keys and returns (share of empty buckets, longest chain).</summary>
    private static (double Empty, int Longest) Spread(int keySize, Action<uint, byte[]> makeKey, ulong seed)
    {
        const int n = 1 << 16;
        var load = new int[n];
        var key = new byte[keySize];
        fixed (byte* k = key)
        {
            for (var i = 0u; i < n; i++)
            {
                makeKey(i, key);
                load[KeyHash.Compute(k, keySize, seed) & (n - 1)]++;
            }
        }
        return (load.Count(l => l == 0) / (double)n, load.Max());
    }

    [Theory]
    [InlineData(0ul)]
    [InlineData(0x0123_4567_89ab_cdeful)]
    public void Structured_keys_spread_over_buckets_like_random_ones(ulong seed)
    {
        // A random function leaves about 1/e of the buckets empty and no chain much longer than 8.
        var cases = new (int Size, Action<uint, byte[]> Make)[]
        {
            (4, (i, k) => BinaryPrimitives.WriteUInt32LittleEndian(k, i)),
            (4, (i, k) => BinaryPrimitives.WriteUInt32BigEndian(k, 0x0a00_0000 | i)),             // 10.0.0.0/8 addresses
            (8, (i, k) => BinaryPrimitives.WriteUInt64LittleEndian(k, (ulong)i << 32)),           // only high bits vary
            (13, (i, k) => { k.AsSpan().Clear(); BinaryPrimitives.WriteUInt16BigEndian(k.AsSpan(8), (ushort)i); k[12] = 6; }), // 5-tuple, source ports
            (16, (i, k) => { k.AsSpan().Clear(); BinaryPrimitives.WriteUInt32BigEndian(k.AsSpan(12), i); }), // IPv6, last word
            (3, (i, k) => { k[0] = (byte)i; k[1] = (byte)(i >> 8); k[2] = 0; }),
        };
        foreach (var (size, make) in cases)
        {
            var (empty, longest) = Spread(size, make, seed);
            Assert.True(empty is > 0.355 and < 0.382 && longest <= 12, $"key size {size}: {empty:F4} empty, longest chain {longest}");
        }
    }

    [Fact]
    public void The_seed_changes_the_hash_and_zero_seed_is_stable()
    {
        var key = stackalloc byte[8];
        *(ulong*)key = 42;
        Assert.Equal(KeyHash.Compute(key, 8, 0), KeyHash.Compute(key, 8, 0));
        Assert.NotEqual(KeyHash.Compute(key, 8, 0), KeyHash.Compute(key, 8, 1));
    }
}
