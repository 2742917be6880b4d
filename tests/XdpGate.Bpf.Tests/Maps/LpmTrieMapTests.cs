using XdpGate.Bpf.Maps.Lpm;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Tests.Maps.LpmTestKit;

namespace XdpGate.Bpf.Tests.Maps;

public sealed class LpmTrieMapTests
{
    [Fact]
    public void A_lookup_returns_the_value_of_the_longest_matching_prefix()
    {
        using var map = NewMap();
        Assert.Equal(0, map.Put("10.0.0.0/8", 1));
        Assert.Equal(0, map.Put("10.1.0.0/16", 2));
        Assert.Equal(0, map.Put("10.1.2.0/24", 3));
        Assert.Equal(0, map.Put("10.1.2.3/32", 4));

        Assert.Equal(4ul, map.Get("10.1.2.3"));
        Assert.Equal(3ul, map.Get("10.1.2.4"));
        Assert.Equal(2ul, map.Get("10.1.3.1"));
        Assert.Equal(1ul, map.Get("10.2.0.0"));
        Assert.Null(map.Get("11.0.0.0"));
        Assert.Null(map.Get("9.255.255.255"));
        Assert.Equal(4, map.Count);
    }

    [Fact]
    public void Program_lookups_return_a_pointer_into_the_value_region_that_sees_program_writes()
    {
        using var map = NewMap();
        map.Put("192.168.0.0/16", 7);
        Assert.Equal(7ul, map.ProgramGet(Key("192.168.5.5")));
        Assert.Null(map.ProgramGet(Key("192.169.0.1")));

        unsafe
        {
            fixed (byte* k = Key("192.168.1.1"))
                *(ulong*)map.LookupElem(k, 0) = 70;
        }
        Assert.Equal(70ul, map.Get("192.168.0.0/16"));
    }

    [Fact]
    public void A_default_route_matches_every_address_that_nothing_longer_matches()
    {
        using var map = NewMap();
        Assert.Null(map.Get("1.2.3.4"));
        Assert.Equal(0, map.Put("0.0.0.0/0", 9));
        Assert.Equal(0, map.Put("10.0.0.0/8", 1));

        Assert.Equal(9ul, map.Get("1.2.3.4"));
        Assert.Equal(9ul, map.Get("255.255.255.255"));
        Assert.Equal(1ul, map.Get("10.9.9.9"));
        Assert.Equal(9ul, map.ProgramGet(Key("0.0.0.0")));

        Assert.Equal(0, map.Delete(Key("0.0.0.0/0")));
        Assert.Null(map.Get("1.2.3.4"));
        Assert.Equal(1ul, map.Get("10.9.9.9"));
        Assert.Equal(-Errno.ENOENT, map.Delete(Key("0.0.0.0/0")));
    }

    [Fact]
    public void A_slash_32_matches_only_its_own_address()
    {
        using var map = NewMap();
        map.Put("203.0.113.7/32", 5);
        Assert.Equal(5ul, map.Get("203.0.113.7"));
        Assert.Null(map.Get("203.0.113.6"));
        Assert.Null(map.Get("203.0.113.8"));
    }

    [Fact]
    public void IPv6_prefixes_up_to_slash_128_match_like_IPv4_ones()
    {
        using var map = NewMap(dataSize: 16);
        map.Put("::/0", 1);
        map.Put("2001:db8::/32", 2);
        map.Put("2001:db8:1::/48", 3);
        map.Put("2001:db8:1:2::/64", 4);
        map.Put("2001:db8:1:2::1/128", 5);

        Assert.Equal(5ul, map.Get("2001:db8:1:2::1"));
        Assert.Equal(4ul, map.Get("2001:db8:1:2::2"));
        Assert.Equal(3ul, map.Get("2001:db8:1:3::1"));
        Assert.Equal(2ul, map.Get("2001:db8:ffff::1"));
        Assert.Equal(1ul, map.Get("fe80::1"));
        Assert.Null(map.Get("2001:db8:1:2::1/129"));

        Assert.Equal(0, map.Delete(Key("2001:db8:1:2::1/128")));
        Assert.Equal(4ul, map.Get("2001:db8:1:2::1"));
    }

    [Fact]
    public void Deleting_a_prefix_restores_the_next_longest_match()
    {
        using var map = NewMap();
        map.Put("10.0.0.0/8", 1);
        map.Put("10.1.0.0/16", 2);
        map.Put("10.1.2.0/24", 3);

        Assert.Equal(0, map.Delete(Key("10.1.2.0/24")));
        Assert.Equal(2ul, map.Get("10.1.2.4"));
        Assert.Equal(0, map.Delete(Key("10.1.0.0/16")));
        Assert.Equal(1ul, map.Get("10.1.2.4"));
        Assert.Equal(0, map.Delete(Key("10.0.0.0/8")));
        Assert.Null(map.Get("10.1.2.4"));
        Assert.Equal(0, map.Count);
    }

    [Fact]
    public void Deleting_a_shorter_prefix_keeps_the_longer_ones_inside_it()
    {
        using var map = NewMap();
        map.Put("10.0.0.0/8", 1);
        map.Put("10.1.0.0/16", 2);
        map.Put("10.1.2.0/24", 3);

        Assert.Equal(0, map.Delete(Key("10.1.0.0/16")));
        Assert.Equal(3ul, map.Get("10.1.2.4"));
        Assert.Equal(1ul, map.Get("10.1.3.4"));
        Assert.Equal(3ul, map.Get(Key("10.1.2.4", 24)));
        Assert.Equal(1ul, map.Get(Key("10.1.2.4", 23)));
    }

    [Fact]
    public void Bits_past_the_prefix_length_are_ignored_by_updates_lookups_and_deletes()
    {
        using var map = NewMap();
        Assert.Equal(0, map.Put("10.1.2.3/8", 1));
        Assert.Equal(1ul, map.Get("10.200.0.1"));
        Assert.Equal(-Errno.EEXIST, map.Put("10.9.9.9/8", 2, MapFlags.BPF_NOEXIST));
        Assert.Equal(0, map.Put("10.9.9.9/8", 2, MapFlags.BPF_EXIST));
        Assert.Equal(2ul, map.Get("10.0.0.0/8"));
        Assert.Equal(1, map.Count);

        Assert.Equal(0, map.Delete(Key("10.255.255.255/8")));
        Assert.Null(map.Get("10.0.0.1"));
    }

    [Fact]
    public void Iteration_returns_the_key_data_as_last_written_like_the_kernel()
    {
        // lpm_trie.c copies the whole key into the node and get_next_key copies it back out, trailing bits included.
        using var map = NewMap();
        map.Put("10.1.2.3/8", 1);
        var keys = Keys(map);
        Assert.Equal(["10.1.2.3/8"], keys.Select(Format));

        map.Put("10.4.5.6/8", 2);
        Assert.Equal(["10.4.5.6/8"], Keys(map).Select(Format));
    }

    [Fact]
    public void A_lookup_key_prefixlen_below_the_width_matches_only_prefixes_no_longer_than_it()
    {
        using var map = NewMap(shape: TrieShape.Uniform(32, 8, 4));
        map.Put("10.0.0.0/8", 1);
        map.Put("10.1.0.0/16", 2);
        map.Put("10.1.2.0/24", 3);
        map.Put("10.1.2.3/32", 4);

        Assert.Equal(4ul, map.Get(Key("10.1.2.3", 32)));
        Assert.Equal(3ul, map.Get(Key("10.1.2.3", 31)));
        Assert.Equal(3ul, map.Get(Key("10.1.2.3", 24)));
        Assert.Equal(2ul, map.Get(Key("10.1.2.3", 23)));
        Assert.Equal(2ul, map.Get(Key("10.1.2.3", 20)));
        Assert.Equal(2ul, map.Get(Key("10.1.2.3", 16)));
        Assert.Equal(1ul, map.Get(Key("10.1.2.3", 15)));
        Assert.Equal(1ul, map.Get(Key("10.1.2.3", 8)));
        Assert.Null(map.Get(Key("10.1.2.3", 7)));
        Assert.Null(map.Get(Key("10.1.2.3", 0)));
        Assert.Equal(1ul, map.ProgramGet(Key("10.1.2.3", 12)));

        map.Put("0.0.0.0/0", 9);
        Assert.Equal(9ul, map.Get(Key("10.1.2.3", 7)));
        Assert.Equal(9ul, map.Get(Key("10.1.2.3", 0)));
    }

    [Fact]
    public void A_lookup_key_prefixlen_past_the_width_finds_nothing()
    {
        using var map = NewMap();
        map.Put("0.0.0.0/0", 9);
        Assert.Null(map.Get(Key("10.1.2.3", 33)));
        Assert.Null(map.ProgramGet(Key("10.1.2.3", -1)));
    }

    [Fact]
    public void Update_flags_follow_the_kernel_NOEXIST_EXIST_and_reject_others()
    {
        using var map = NewMap();
        Assert.Equal(-Errno.ENOENT, map.Put("10.0.0.0/8", 1, MapFlags.BPF_EXIST));
        Assert.Equal(0, map.Put("10.0.0.0/8", 1, MapFlags.BPF_NOEXIST));
        Assert.Equal(-Errno.EEXIST, map.Put("10.0.0.0/8", 2, MapFlags.BPF_NOEXIST));
        Assert.Equal(1ul, map.Get("10.0.0.0/8"));
        Assert.Equal(0, map.Put("10.0.0.0/8", 3, MapFlags.BPF_EXIST));
        Assert.Equal(3ul, map.Get("10.0.0.0/8"));
        Assert.Equal(0, map.Put("10.0.0.0/8", 4, MapFlags.BPF_ANY));
        Assert.Equal(4ul, map.Get("10.0.0.0/8"));

        Assert.Equal(-Errno.EINVAL, map.Put("10.0.0.0/8", 5, MapFlags.BPF_F_LOCK));
        Assert.Equal(-Errno.EINVAL, map.Put("10.0.0.0/8", 5, 3));
        Assert.Equal(-Errno.EINVAL, map.Update(Key("10.0.0.0", 33), Value(5)));
        Assert.Equal(-Errno.EINVAL, map.Delete(Key("10.0.0.0", 33)));
        Assert.Equal(-Errno.ENOENT, map.Delete(Key("10.0.0.0/9")));
        Assert.Equal(-Errno.ENOENT, map.Delete(Key("11.0.0.0/8")));
        Assert.Equal(4ul, map.Get("10.0.0.0/8"));
    }

    [Fact]
    public void A_full_map_refuses_new_prefixes_with_ENOSPC_but_still_replaces_values()
    {
        using var map = NewMap(maxEntries: 3);
        Assert.Equal(0, map.Put("10.0.0.0/8", 1));
        Assert.Equal(0, map.Put("10.1.0.0/16", 2));
        Assert.Equal(0, map.Put("0.0.0.0/0", 3));
        Assert.Equal(-Errno.ENOSPC, map.Put("10.1.2.0/24", 4));
        Assert.Equal(-Errno.ENOSPC, map.Put("10.1.2.0/24", 4, MapFlags.BPF_NOEXIST));
        Assert.Equal(-Errno.ENOENT, map.Put("10.1.2.0/24", 4, MapFlags.BPF_EXIST));
        for (ulong i = 0; i < 1000; i++)
            Assert.Equal(0, map.Put("10.1.0.0/16", 100 + i));
        Assert.Equal(1099ul, map.Get("10.1.9.9"));

        Assert.Equal(0, map.Delete(Key("10.0.0.0/8")));
        Assert.Equal(0, map.Put("10.1.2.0/24", 4));
        Assert.Equal(3, map.Count);
    }

    [Fact]
    public void The_program_helpers_have_the_same_semantics_as_the_control_plane()
    {
        using var map = NewMap();
        var key = Key("172.16.0.0/12");
        var value = Value(12);
        unsafe
        {
            fixed (byte* k = key)
            fixed (byte* v = value)
            {
                Assert.Equal(0, map.UpdateElem(k, v, MapFlags.BPF_NOEXIST, 0));
                Assert.Equal(-Errno.EEXIST, map.UpdateElem(k, v, MapFlags.BPF_NOEXIST, 0));
                Assert.Equal(-Errno.EINVAL, map.UpdateElem(k, v, 7, 0));
                Assert.Equal(12ul, map.Get("172.31.255.255"));
                Assert.Equal(0, map.DeleteElem(k));
                Assert.Equal(-Errno.ENOENT, map.DeleteElem(k));
            }
        }
    }

    [Fact]
    public void Iteration_follows_the_kernels_post_order_with_more_specific_prefixes_first()
    {
        using var map = NewMap();
        map.Put("0.0.0.0/0", 0);
        map.Put("192.168.0.0/16", 1);
        map.Put("192.168.0.0/24", 2);
        map.Put("192.168.128.0/24", 3);
        map.Put("192.168.1.0/24", 5);
        map.Put("10.0.0.0/8", 6);

        Assert.Equal(
            ["10.0.0.0/8", "192.168.0.0/24", "192.168.1.0/24", "192.168.128.0/24", "192.168.0.0/16", "0.0.0.0/0"],
            Keys(map).Select(Format));
    }

    [Fact]
    public void Get_next_key_starts_over_for_a_missing_key_and_ends_with_ENOENT()
    {
        using var map = NewMap();
        var next = new byte[map.KeySize];
        Assert.Equal(-Errno.ENOENT, map.GetNextKey([], next));
        Assert.Equal(-Errno.ENOENT, map.GetNextKey(Key("1.2.3.4/32"), next));

        map.Put("10.0.0.0/8", 1);
        map.Put("10.1.0.0/16", 2);
        Assert.Equal(0, map.GetNextKey(Key("10.0.0.0/9"), next));
        Assert.Equal("10.1.0.0/16", Format(next));
        Assert.Equal(0, map.GetNextKey(Key("10.0.0.0", 40), next));
        Assert.Equal("10.1.0.0/16", Format(next));
        Assert.Equal(0, map.GetNextKey(Key("10.1.0.0/16"), next));
        Assert.Equal("10.0.0.0/8", Format(next));
        Assert.Equal(-Errno.ENOENT, map.GetNextKey(Key("10.0.0.0/8"), next));
    }

    [Fact]
    public void Dump_returns_every_prefix_with_its_value()
    {
        using var map = NewMap();
        map.Put("10.0.0.0/8", 1);
        map.Put("10.1.0.0/16", 2);
        map.Put("0.0.0.0/0", 3);
        var dump = map.Dump().Select(pair => (Format(pair.Key), BitConverter.ToUInt64(pair.Value))).ToList();
        Assert.Equal([("10.1.0.0/16", 2ul), ("10.0.0.0/8", 1ul), ("0.0.0.0/0", 3ul)], dump);
    }

    [Theory]
    [InlineData(0u, MapFlags.BPF_F_NO_PREALLOC, 8u, 8u, "max_entries")]
    [InlineData(16u, 0u, 8u, 8u, "BPF_F_NO_PREALLOC")]
    [InlineData(16u, MapFlags.BPF_F_NO_PREALLOC | MapFlags.BPF_F_MMAPABLE, 8u, 8u, "map_flags")]
    [InlineData(16u, MapFlags.BPF_F_NO_PREALLOC | MapFlags.BPF_F_RDONLY_PROG | MapFlags.BPF_F_WRONLY_PROG, 8u, 8u, "BPF_F_RDONLY_PROG")]
    [InlineData(16u, MapFlags.BPF_F_NO_PREALLOC, 4u, 8u, "key_size")]
    [InlineData(16u, MapFlags.BPF_F_NO_PREALLOC, 261u, 8u, "key_size")]
    [InlineData(16u, MapFlags.BPF_F_NO_PREALLOC, 8u, 0u, "value_size")]
    [InlineData(16u, MapFlags.BPF_F_NO_PREALLOC, 8u, 4194025u, "value_size")]
    public void Creation_refuses_what_the_kernel_refuses_naming_the_map_and_EINVAL(uint maxEntries, uint flags, uint keySize, uint valueSize, string reason)
    {
        var definition = new MapDefinition("routes", bpf_map_type.BPF_MAP_TYPE_LPM_TRIE, keySize, valueSize, maxEntries, flags);
        var error = Assert.Throws<BpfLoadException>(() => new LpmTrieMap(definition));
        Assert.Contains("'routes'", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("(EINVAL)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5u)]
    [InlineData(260u)]
    public void Creation_accepts_the_smallest_and_largest_kernel_key_sizes(uint keySize)
    {
        using var map = new LpmTrieMap(new MapDefinition("edge", bpf_map_type.BPF_MAP_TYPE_LPM_TRIE, keySize, 1, 4,
            MapFlags.BPF_F_NO_PREALLOC | MapFlags.BPF_F_NUMA_NODE | MapFlags.BPF_F_RDONLY_PROG));
        var data = new byte[keySize - 4];
        data[0] = 0xa0;
        Assert.Equal(0, map.Update(Key(data, 3), [42]));
        data[^1] |= 0x01;
        var value = new byte[1];
        Assert.Equal(0, map.Lookup(Key(data, (int)(keySize - 4) * 8), value));
        Assert.Equal(42, value[0]);
        Assert.Equal(["" + (keySize - 4)], Keys(map).Select(k => "" + (k.Length - 4)));
    }

    [Fact]
    public void Control_plane_calls_with_wrong_sizes_throw_naming_the_map()
    {
        using var map = NewMap(name: "fib");
        var key = Key("10.0.0.0/8");
        Assert.Contains("'fib'", Assert.Throws<ArgumentException>(() => map.Update(key.AsSpan(1), Value(1))).Message, StringComparison.Ordinal);
        Assert.Contains("'fib'", Assert.Throws<ArgumentException>(() => map.Update(key, new byte[4])).Message, StringComparison.Ordinal);
        Assert.Contains("'fib'", Assert.Throws<ArgumentException>(() => map.Lookup(key, new byte[9])).Message, StringComparison.Ordinal);
        Assert.Contains("'fib'", Assert.Throws<ArgumentException>(() => map.Lookup(new byte[20], new byte[8])).Message, StringComparison.Ordinal);
        Assert.Contains("'fib'", Assert.Throws<ArgumentException>(() => map.Delete(new byte[7])).Message, StringComparison.Ordinal);
        Assert.Contains("'fib'", Assert.Throws<ArgumentException>(() => map.GetNextKey(new byte[3], new byte[8])).Message, StringComparison.Ordinal);
        Assert.Contains("'fib'", Assert.Throws<ArgumentException>(() => map.GetNextKey([], new byte[7])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_map_of_another_type_is_refused()
    {
        var definition = new MapDefinition("h", bpf_map_type.BPF_MAP_TYPE_HASH, 8, 8, 16, MapFlags.BPF_F_NO_PREALLOC);
        Assert.Contains("'h'", Assert.Throws<ArgumentException>(() => new LpmTrieMap(definition)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Replacing_a_value_leaves_pointers_to_the_old_value_readable()
    {
        using var map = NewMap();
        map.Put("10.0.0.0/8", 1);
        unsafe
        {
            fixed (byte* k = Key("10.0.0.1"))
            {
                var old = map.LookupElem(k, 0);
                map.Put("10.0.0.0/8", 2);
                Assert.Equal(1ul, *(ulong*)old);
                Assert.True(map.ValueRegion.Contains((ulong)old, 8));
                Assert.Equal(2ul, *(ulong*)map.LookupElem(k, 0));
            }
        }
    }

    [Fact]
    public void Keys_of_one_byte_and_of_odd_lengths_work()
    {
        using var small = NewMap(dataSize: 1);
        small.Update(Key([0b1010_0000], 3), Value(1));
        small.Update(Key([0b1010_1100], 6), Value(2));
        Assert.Equal(1ul, small.Get(Key([0b1011_1111], 8)));
        Assert.Equal(2ul, small.Get(Key([0b1010_1111], 8)));
        Assert.Null(small.Get(Key([0b1110_1111], 8)));

        using var odd = NewMap(dataSize: 11);
        var data = new byte[11];
        data[10] = 0x80;
        odd.Update(Key(data, 81), Value(3));
        odd.Update(Key(data, 64), Value(4));
        Assert.Equal(3ul, odd.Get(Key(data, 88)));
        data[10] = 0x7f;
        Assert.Equal(4ul, odd.Get(Key(data, 88)));
        Assert.Equal(4ul, odd.Get(Key(data, 80)));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(16)]
    public void Iteration_visits_every_prefix_exactly_once(int dataSize)
    {
        using var map = NewMap(dataSize: dataSize, maxEntries: 5000);
        var rng = new Random(dataSize);
        var stored = new HashSet<string>();
        while (stored.Count < 4000)
        {
            var data = new byte[dataSize];
            rng.NextBytes(data);
            var length = rng.Next(dataSize * 8 + 1);
            var key = Key(Mask(data, length), length);
            if (stored.Add(Convert.ToHexString(key)))
                Assert.Equal(0, map.Update(key, Value((ulong)stored.Count)));
        }
        var seen = Keys(map).Select(Convert.ToHexString).ToList();
        Assert.Equal(stored.Count, seen.Count);
        Assert.True(stored.SetEquals(seen));
    }

    [Fact]
    public unsafe void When_every_spare_slot_is_in_its_grace_period_program_updates_get_ENOMEM_and_control_plane_updates_wait()
    {
        using var map = NewMap(maxEntries: 16);
        map.GracePeriod = TimeSpan.FromMinutes(10);
        var key = Key("10.0.0.0/8");
        var value = Value(1);
        var result = 0;
        var updates = 0;
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            // Each replacement frees a slot that may not be reused for a long while, so the reserve runs out.
            while (result == 0 && updates++ < 100_000)
                result = map.UpdateElem(k, v, MapFlags.BPF_ANY, 0);
        }
        Assert.Equal(-Errno.ENOMEM, result);
        Assert.Equal(1ul, map.Get("10.1.2.3"));

        map.GracePeriod = TimeSpan.FromMilliseconds(20);
        Assert.Equal(0, map.Update(key, Value(2)));
        Assert.Equal(2ul, map.Get("10.1.2.3"));
        Assert.Equal(1, map.Count);
    }

    [Fact]
    public void The_value_region_is_read_only_for_programs_of_a_BPF_F_RDONLY_PROG_map()
    {
        using var writable = NewMap();
        Assert.True(writable.ValueRegion.Writable);
        using var readOnly = new LpmTrieMap(new MapDefinition("ro", bpf_map_type.BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16,
            MapFlags.BPF_F_NO_PREALLOC | MapFlags.BPF_F_RDONLY_PROG));
        Assert.False(readOnly.ValueRegion.Writable);
    }
}
