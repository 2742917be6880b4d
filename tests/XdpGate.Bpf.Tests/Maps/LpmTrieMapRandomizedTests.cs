using XdpGate.Bpf.Maps.Lpm;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Tests.Maps.LpmTestKit;

namespace XdpGate.Bpf.Tests.Maps;

public sealed class LpmTrieMapRandomizedTests
{
    private const int MaxEntries = 2000;

    /// <summary>Key data size, root stride, deeper stride (0, 0: the map's default shape).</summary>
    public static TheoryData<int, int, int> Plans => new()
    {
        { 4, 0, 0 },
        { 4, 8, 8 },
        { 4, 24, 4 },
        { 4, 3, 2 },
        { 4, 1, 1 },
        { 16, 0, 0 },
        { 16, 16, 8 },
        { 16, 7, 5 },
        { 5, 12, 3 },
    };

    [Theory]
    [MemberData(nameof(Plans))]
    public void Random_updates_and_deletes_always_agree_with_a_linear_scan_reference(int dataSize, int root, int deep)
    {
        var rng = new Random(1000 * dataSize + 10 * root + deep);
        // Random short prefixes in a wide root expand over millions of entries, slow in a Debug build: a few are
        // inserted on purpose, the random ones stay within 12 bits of the root's width.
        var shape = root == 0 ? null : TrieShape.Uniform(dataSize * 8, root, deep);
        using var map = NewMap(dataSize: dataSize, maxEntries: MaxEntries, shape: shape);
        var generator = new PrefixGenerator(rng, dataSize, shortest: Math.Max(0, map.Shape.Strides[0] - 12));
        var reference = new ReferenceLpm();
        foreach (var length in new[] { 1, 3, 6 })
        {
            var data = generator.Address();
            Assert.Equal(0, map.Update(Key(data, length), Value((ulong)length)));
            reference.Set(data, length, (ulong)length);
        }

        RandomOperations(map, reference, generator, rng, operations: 2600, deleteShare: 0.25);
        Verify(map, reference, generator, rng);

        // Drain most of it, checking that deletes restore shorter matches and free nodes.
        foreach (var (data, length, _) in reference.Prefixes.Where(_ => rng.Next(3) != 0).ToList())
        {
            Assert.Equal(0, map.Delete(Key(data, length)));
            reference.Remove(data, length);
        }
        Verify(map, reference, generator, rng);

        // Refill up to and past max_entries, so that ENOSPC and slot reuse are exercised.
        RandomOperations(map, reference, generator, rng, operations: 3000, deleteShare: 0.1);
        Verify(map, reference, generator, rng);
    }

    private static void RandomOperations(BpfMap map, ReferenceLpm reference, PrefixGenerator generator, Random rng, int operations, double deleteShare)
    {
        for (var i = 0; i < operations; i++)
        {
            var (data, length) = generator.Prefix();
            if (rng.NextDouble() < deleteShare)
            {
                if (reference.Count > 0 && rng.Next(2) == 0)
                    (data, length, _) = reference.Prefixes.ElementAt(rng.Next(reference.Count));
                var expectedDelete = reference.Remove(data, length) ? 0 : -Errno.ENOENT;
                Assert.Equal(expectedDelete, map.Delete(Key(data, length)));
                continue;
            }

            var flags = (ulong)rng.Next(3);
            var value = (ulong)rng.NextInt64();
            var exists = reference.Contains(data, length);
            var expected =
                exists && flags == MapFlags.BPF_NOEXIST ? -Errno.EEXIST
                : !exists && flags == MapFlags.BPF_EXIST ? -Errno.ENOENT
                : !exists && reference.Count >= MaxEntries ? -Errno.ENOSPC
                : 0;
            Assert.Equal(expected, map.Update(Key(data, length), Value(value), flags));
            if (expected == 0)
                reference.Set(data, length, value);
        }
    }

    private static void Verify(LpmTrieMap map, ReferenceLpm reference, PrefixGenerator generator, Random rng)
    {
        Assert.Equal(reference.Count, map.Count);
        var bits = map.KeySize * 8 - 32;
        for (var i = 0; i < 1500; i++)
        {
            var address = generator.Address();
            var expected = reference.Lookup(address, bits);
            Assert.Equal(expected, map.Get(Key(address, bits)));
            Assert.Equal(expected, map.ProgramGet(Key(address, bits)));

            var limit = rng.Next(bits + 1);
            Assert.Equal(reference.Lookup(address, limit), map.ProgramGet(Key(address, limit)));
        }

        // Every stored prefix's own key finds it, and iteration yields each exactly once in the kernel's order.
        var expectedOrder = reference.Prefixes.Select(p => (p.Data, p.Length)).ToList();
        expectedOrder.Sort(ReferenceLpm.PostOrder);
        var keys = Keys(map);
        Assert.Equal(expectedOrder.Select(p => Convert.ToHexString(Key(p.Data, p.Length))), keys.Select(Convert.ToHexString));
        foreach (var (data, length, value) in reference.Prefixes)
            Assert.Equal(value, map.Get(Key(data, length)));
    }

    /// <summary>
    /// Addresses near a few random bases (so prefixes nest and overlap a lot), prefixes of any length taken from them
    /// with their trailing bits left as they are.
    /// </summary>
    private sealed class PrefixGenerator(Random rng, int dataSize, int shortest)
    {
        private readonly byte[][] bases = [.. Enumerable.Range(0, 12).Select(_ => RandomBytes(rng, dataSize))];

        public byte[] Address()
        {
            var address = (byte[])bases[rng.Next(bases.Length)].Clone();
            for (var flips = rng.Next(4); flips > 0; flips--)
            {
                var bit = rng.Next(dataSize * 8);
                address[bit >> 3] ^= (byte)(0x80 >> (bit & 7));
            }
            return address;
        }

        public (byte[] Data, int Length) Prefix()
        {
            var bits = dataSize * 8;
            // Mostly long prefixes, with a steady share of short ones (which expand over many entries).
            var length = rng.Next(8) == 0 ? rng.Next(shortest, bits + 1) : bits - rng.Next(Math.Min(bits, 12) + 1);
            return (Address(), length);
        }

        private static byte[] RandomBytes(Random rng, int count)
        {
            var bytes = new byte[count];
            rng.NextBytes(bytes);
            return bytes;
        }
    }
}
