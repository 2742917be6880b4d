using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Tests.Maps.HashMapTestKit;

namespace XdpGate.Bpf.Tests.Maps;

public class HashMapIterationTests
{
    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void An_empty_map_has_no_first_key(bpf_map_type type)
    {
        using var map = Create(type);
        Assert.Equal(-Errno.ENOENT, map.GetNextKey([], new byte[4]));
        Assert.Equal(-Errno.ENOENT, map.GetNextKey(Key(1), new byte[4]));
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void Iteration_returns_every_key_exactly_once_then_ENOENT(bpf_map_type type)
    {
        // More keys than buckets would hold singly, so chains of several elements are walked too.
        using var map = Create(type, maxEntries: 3000);
        for (var k = 0u; k < 3000; k++)
            map.Update(Key(k * 2654435761u), Value(map, k));
        var keys = Keys(map);
        Assert.Equal(3000, keys.Count);
        Assert.Equal(3000, keys.Select(Convert.ToHexString).Distinct().Count());
        Assert.Equal(-Errno.ENOENT, map.GetNextKey(keys[^1], new byte[4]));
        Assert.Equal(3000, map.Dump().Count());
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void A_missing_key_gives_the_first_key_as_the_kernel_does(bpf_map_type type)
    {
        using var map = Create(type);
        for (var k = 0u; k < 10; k++)
            map.Update(Key(k), Value(map, k));
        var first = new byte[4];
        var afterMissing = new byte[4];
        Assert.Equal(0, map.GetNextKey([], first));
        Assert.Equal(0, map.GetNextKey(Key(12345), afterMissing));
        Assert.Equal(first, afterMissing);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void Deleting_the_previous_key_after_fetching_the_next_visits_every_key(bpf_map_type type)
    {
        using var map = Create(type, maxEntries: 500);
        for (var k = 0u; k < 500; k++)
            map.Update(Key(k), Value(map, k));
        var seen = new HashSet<uint>();
        var key = Array.Empty<byte>();
        var next = new byte[4];
        while (map.GetNextKey(key, next) == 0)
        {
            if (key.Length != 0)
                Assert.Equal(0, map.Delete(key));
            key = (byte[])next.Clone();
            Assert.True(seen.Add(BitConverter.ToUInt32(key)));
        }
        Assert.Equal(0, map.Delete(key));
        Assert.Equal(500, seen.Count);
        Assert.Equal(0, map.Count);
    }
}
