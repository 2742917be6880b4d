using System.Buffers.Binary;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Maps.Lpm;
using Xunit;
using static XdpGate.Bpf.Tests.Maps.LpmTestKit;

namespace XdpGate.Bpf.Tests.Maps;

public sealed class LpmTrieMapConcurrencyTests
{
    public static TheoryData<int, int> Plans => new() { { 0, 0 }, { 8, 4 }, { 3, 2 } };

    /// <summary>
    /// A writer churns prefixes of 10.0.0.0/16 (inserting, replacing, deleting, and now and then clearing them all so
    /// that nodes are freed and reused) while readers look up addresses in that /16. 10.0.0.0/8 and 10.0.0.0/16 stay
    /// put, so every answer must be some stored prefix covering the address, at least a /16 (no answer may fall back
    /// past a prefix that was there all along), and no longer than the lookup's prefixlen; every value carries its
    /// own prefix and a checksum, so a torn value shows.
    /// </summary>
    [Theory]
    [MemberData(nameof(Plans))]
    public void Lookups_during_updates_always_return_a_valid_answer_and_never_miss_a_permanent_prefix(int root, int deep)
    {
        using var map = NewMap(maxEntries: 2048, shape: root == 0 ? null : TrieShape.Uniform(32, root, deep));
        Assert.Equal(0, map.Update(Key("10.0.0.0/8"), Encode(Key("10.0.0.0/8"))));
        Assert.Equal(0, map.Update(Key("10.0.0.0/16"), Encode(Key("10.0.0.0/16"))));

        using var stop = new CancellationTokenSource();
        // Dedicated threads: on a two-core machine the thread pool would start the writer only after the readers.
        var writer = Run(() =>
        {
            var rng = new Random(1);
            var mine = new List<byte[]>();
            var writes = 0L;
            while (!stop.IsCancellationRequested)
            {
                var key = Key([10, 0, (byte)rng.Next(16), (byte)rng.Next(256)], rng.Next(17, 33));
                if (rng.Next(8) == 0)
                    key = Key("10.0.0.0/12");
                if (rng.Next(3) == 0 && mine.Count > 0)
                {
                    var victim = rng.Next(mine.Count);
                    map.Delete(mine[victim]);
                    mine.RemoveAt(victim);
                }
                else if (map.Update(key, Encode(key)) == 0)
                {
                    mine.Add(key);
                }
                if (rng.Next(4096) == 0)
                {
                    foreach (var stale in mine)
                        map.Delete(stale);
                    mine.Clear();
                }
                writes++;
            }
            return writes;
        });

        var programReader = Run(() => Read(map, stop.Token, programSide: true, seed: 2));
        var controlReader = Run(() => Read(map, stop.Token, programSide: false, seed: 3));
        Thread.Sleep(500);
        stop.Cancel();
        // Join every thread before looking at any failure: the map must outlive all of them.
        var outcomes = new[] { writer(), programReader(), controlReader() };
        var failures = outcomes.Select(o => o.Failure).OfType<Exception>().ToList();
        if (failures.Count > 0)
            throw new AggregateException(failures);
        var (writes, programLookups, controlLookups) = (outcomes[0].Result, outcomes[1].Result, outcomes[2].Result);

        Assert.True(writes > 1000, $"only {writes} writes");
        Assert.True(programLookups > 1000 && controlLookups > 1000, $"only {programLookups} and {controlLookups} lookups");
        Assert.Equal(Encode(Key("10.0.0.0/16")), Value(map, Key("10.0.0.0/16")));
    }

    /// <summary>Starts <paramref name="work"/> on its own thread; the returned function joins it.</summary>
    private static Func<(long Result, Exception? Failure)> Run(Func<long> work)
    {
        var result = 0L;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failure = e;
            }
        });
        thread.Start();
        return () =>
        {
            thread.Join();
            return (result, failure);
        };
    }

    private static long Read(LpmTrieMap map, CancellationToken stop, bool programSide, int seed)
    {
        var rng = new Random(seed);
        var value = new byte[8];
        var lookups = 0L;
        while (!stop.IsCancellationRequested)
        {
            byte[] address = [10, 0, (byte)rng.Next(16), (byte)rng.Next(256)];
            var limit = rng.Next(2) == 0 ? 32 : rng.Next(16, 33);
            var key = Key(address, limit);
            if (programSide)
            {
                unsafe
                {
                    fixed (byte* k = key)
                    {
                        var found = map.LookupElem(k, 0);
                        Assert.True(found is not null, $"no match for {Format(key)}");
                        new ReadOnlySpan<byte>(found, 8).CopyTo(value);
                    }
                }
            }
            else
            {
                Assert.Equal(0, map.Lookup(key, value));
            }

            var (data, length) = Decode(value);
            Assert.True(length >= 16 && length <= limit && SamePrefix(data, address, length),
                $"{(programSide ? "program" : "control plane")}: {Format(key)} matched {Format(Key(data, length))}");
            lookups++;
        }
        return lookups;
    }

    /// <summary>A value naming its own prefix: 4 address bytes, the length, and a 3-byte checksum of those.</summary>
    private static byte[] Encode(byte[] key)
    {
        var value = new byte[8];
        var data = Mask(key.AsSpan(4), BitConverter.ToInt32(key));
        data.CopyTo(value, 0);
        value[4] = key[0];
        var sum = (uint)BinaryPrimitives.ReadInt32LittleEndian(value) * 2654435761u ^ value[4];
        value[5] = (byte)sum;
        value[6] = (byte)(sum >> 8);
        value[7] = (byte)(sum >> 16);
        return value;
    }

    private static (byte[] Data, int Length) Decode(byte[] value)
    {
        var key = Key(value.AsSpan(0, 4), value[4]);
        Assert.True(value.AsSpan().SequenceEqual(Encode(key)), $"torn value {Convert.ToHexString(value)}");
        return (value[..4], value[4]);
    }

    private static byte[] Value(BpfMap map, byte[] key)
    {
        var value = new byte[map.ValueSize];
        Assert.Equal(0, map.Lookup(key, value));
        return value;
    }
}
