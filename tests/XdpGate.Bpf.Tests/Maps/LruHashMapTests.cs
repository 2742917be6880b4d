using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Tests.Maps.HashMapTestKit;

namespace XdpGate.Bpf.Tests.Maps;

public class LruHashMapTests
{
    [Theory]
    [MemberData(nameof(LruTypes), MemberType = typeof(HashMapTestKit))]
    public void Inserting_past_max_entries_evicts_and_keeps_the_map_at_max_entries(bpf_map_type type)
    {
        using var map = Create(type, maxEntries: 100);
        for (var k = 0u; k < 1000; k++)
        {
            Assert.Equal(0, map.Update(Key(k), Value(map, k), MapFlags.BPF_NOEXIST));
            Assert.Equal(k + 1 > 100 ? 100u : k + 1, (uint)map.Count);
            Assert.Equal(k, Get(map, Key(k))); // the newest key is always there
        }
        Assert.Equal(100, Keys(map).Count);
    }

    [Theory]
    [MemberData(nameof(LruTypes), MemberType = typeof(HashMapTestKit))]
    public void Cold_keys_are_evicted_before_keys_programs_used_recently(bpf_map_type type)
    {
        using var map = Create(type, maxEntries: 1000);
        for (var k = 0u; k < 1000; k++)
            map.Update(Key(k), Value(map, k));
        var hot = Enumerable.Range(0, 1000).Where(k => k % 10 == 3).Select(k => (uint)k).ToList();
        foreach (var k in hot)
            Assert.NotEqual(0, ProgramLookup(map, Key(k)));

        for (var k = 1000u; k < 1500; k++)
            Assert.Equal(0, ProgramUpdate(map, Key(k), Value(map, k)));

        Assert.Equal(1000, Keys(map).Count);
        Assert.All(hot, k => Assert.NotNull(Get(map, Key(k))));
        var coldLeft = Enumerable.Range(0, 1000).Count(k => k % 10 != 3 && Get(map, Key((uint)k)) is not null);
        Assert.True(coldLeft <= 900 - 400, $"{coldLeft} of 900 cold keys survived 500 inserts");
    }

    [Theory]
    [MemberData(nameof(LruTypes), MemberType = typeof(HashMapTestKit))]
    public void Control_plane_lookups_do_not_count_as_use(bpf_map_type type)
    {
        // The previous test with the lookups made by the control plane instead: as in the kernel, they do not
        // protect a key, so some of the "hot" keys go the way of the cold ones.
        using var map = Create(type, maxEntries: 1000);
        for (var k = 0u; k < 1000; k++)
            map.Update(Key(k), Value(map, k));
        var looked = Enumerable.Range(0, 1000).Where(k => k % 10 == 3).Select(k => (uint)k).ToList();
        foreach (var k in looked)
            Assert.NotNull(Get(map, Key(k)));
        for (var k = 1000u; k < 1500; k++)
            map.Update(Key(k), Value(map, k));
        Assert.Contains(looked, k => Get(map, Key(k)) is null);
    }

    [Theory]
    [MemberData(nameof(LruTypes), MemberType = typeof(HashMapTestKit))]
    public void Updating_present_keys_of_a_full_map_evicts_nothing(bpf_map_type type)
    {
        using var map = Create(type, maxEntries: 50);
        for (var k = 0u; k < 50; k++)
            map.Update(Key(k), Value(map, k));
        for (var round = 0u; round < 500; round++)
        {
            Assert.Equal(0, map.Update(Key(round % 50), Value(map, round), MapFlags.BPF_EXIST));
            Assert.Equal(0, ProgramUpdate(map, Key(round % 50), Value(map, round)));
        }
        Assert.Equal(50, Keys(map).Count);
        Assert.Equal(-Errno.ENOENT, map.Update(Key(999), Value(map, 1), MapFlags.BPF_EXIST));
    }

    [Theory]
    [MemberData(nameof(LruTypes), MemberType = typeof(HashMapTestKit))]
    public void Concurrent_inserts_from_several_CPUs_keep_the_map_within_max_entries(bpf_map_type type)
    {
        using var map = Create(type, maxEntries: 256, cpus: 4);
        var failures = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, cpu =>
        {
            var value = Value(map, (ulong)cpu);
            for (var i = 0u; i < 20_000; i++)
            {
                var key = Key(((uint)cpu << 24) | i);
                if (ProgramUpdate(map, key, value, cpu: cpu) != 0)
                    Interlocked.Increment(ref failures);
                ProgramLookup(map, Key(((uint)cpu << 24) | (i / 2)), cpu);
            }
        });
        Assert.Equal(0, failures);
        Assert.Equal(256, map.Count);
        Assert.Equal(256, Keys(map).Count);
    }
}
