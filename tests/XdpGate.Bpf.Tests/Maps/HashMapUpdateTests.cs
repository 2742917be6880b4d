using XdpGate.Bpf.Maps;
using XdpGate.Testing.HotPath;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Tests.Maps.HashMapTestKit;

namespace XdpGate.Bpf.Tests.Maps;

public unsafe class HashMapUpdateTests
{
    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void BPF_ANY_inserts_a_new_key_and_overwrites_an_existing_one(bpf_map_type type)
    {
        using var map = Create(type);
        Assert.Equal(0, map.Update(Key(7), Value(map, 1), MapFlags.BPF_ANY));
        Assert.Equal(1ul, Get(map, Key(7)));
        Assert.Equal(0, map.Update(Key(7), Value(map, 2), MapFlags.BPF_ANY));
        Assert.Equal(2ul, Get(map, Key(7)));
        Assert.Equal(1, map.Count);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void BPF_NOEXIST_gives_EEXIST_for_a_present_key_and_leaves_its_value(bpf_map_type type)
    {
        using var map = Create(type);
        Assert.Equal(0, map.Update(Key(1), Value(map, 10), MapFlags.BPF_NOEXIST));
        Assert.Equal(-Errno.EEXIST, map.Update(Key(1), Value(map, 11), MapFlags.BPF_NOEXIST));
        Assert.Equal(10ul, Get(map, Key(1)));
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void BPF_EXIST_gives_ENOENT_for_a_missing_key_and_replaces_a_present_one(bpf_map_type type)
    {
        using var map = Create(type);
        Assert.Equal(-Errno.ENOENT, map.Update(Key(1), Value(map, 10), MapFlags.BPF_EXIST));
        Assert.Null(Get(map, Key(1)));
        Assert.Equal(0, map.Update(Key(1), Value(map, 10)));
        Assert.Equal(0, map.Update(Key(1), Value(map, 12), MapFlags.BPF_EXIST));
        Assert.Equal(12ul, Get(map, Key(1)));
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void Other_update_flags_give_EINVAL_from_both_sides(bpf_map_type type)
    {
        using var map = Create(type);
        var value = Value(map, 1);
        foreach (var flags in new[] { 3ul, MapFlags.BPF_F_LOCK, MapFlags.BPF_F_LOCK | MapFlags.BPF_EXIST, 1ul << 32 })
        {
            Assert.Equal(-Errno.EINVAL, map.Update(Key(1), value, flags));
            Assert.Equal(-Errno.EINVAL, ProgramUpdate(map, Key(1), value, flags));
        }
        Assert.Equal(0, map.Count);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void Delete_removes_a_key_once_and_then_gives_ENOENT(bpf_map_type type)
    {
        using var map = Create(type);
        map.Update(Key(3), Value(map, 3));
        Assert.Equal(0, map.Delete(Key(3)));
        Assert.Null(Get(map, Key(3)));
        Assert.Equal(-Errno.ENOENT, map.Delete(Key(3)));
        Assert.Equal(-Errno.ENOENT, ProgramDelete(map, Key(3)));
        Assert.Equal(0, map.Count);
    }

    [Theory]
    [MemberData(nameof(NonLruTypes), MemberType = typeof(HashMapTestKit))]
    public void A_full_map_refuses_a_new_key_with_E2BIG_but_still_updates_present_keys(bpf_map_type type)
    {
        using var map = Create(type, maxEntries: 8);
        for (var k = 0u; k < 8; k++)
            Assert.Equal(0, map.Update(Key(k), Value(map, k)));
        Assert.Equal(-Errno.E2BIG, map.Update(Key(100), Value(map, 100)));
        Assert.Equal(-Errno.E2BIG, ProgramUpdate(map, Key(100), Value(map, 100)));
        Assert.Equal(-Errno.E2BIG, map.Update(Key(100), Value(map, 100), MapFlags.BPF_NOEXIST));
        // Flags are checked before room, as in the kernel.
        Assert.Equal(-Errno.ENOENT, map.Update(Key(100), Value(map, 100), MapFlags.BPF_EXIST));
        // Replacing far more often than the spare elements last shows that replacements give their old element back.
        for (var round = 0u; round < 1000; round++)
            Assert.Equal(0, map.Update(Key(round % 8), Value(map, round)));
        Assert.Equal(0, map.Delete(Key(0)));
        Assert.Equal(0, map.Update(Key(100), Value(map, 100)));
        Assert.Equal(8, Keys(map).Count);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void Keys_of_unusual_sizes_are_kept_apart(bpf_map_type type)
    {
        foreach (var keySize in new uint[] { 1, 2, 3, 5, 7, 8, 13, 16, 20, 64 })
        {
            using var map = Create(type, keySize: keySize, maxEntries: 300);
            var keys = Enumerable.Range(0, 256).Select(i =>
            {
                var key = new byte[keySize];
                key[0] = (byte)i;
                key[^1] ^= (byte)(i * 7);
                return key;
            }).DistinctBy(Convert.ToHexString).ToList();
            foreach (var (key, i) in keys.Select((key, i) => (key, i)))
                Assert.Equal(0, map.Update(key, Value(map, (ulong)i), MapFlags.BPF_NOEXIST));
            foreach (var (key, i) in keys.Select((key, i) => (key, i)))
                Assert.Equal((ulong)i, Get(map, key));
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void Wrong_key_or_value_sizes_throw_naming_the_map(bpf_map_type type)
    {
        using var map = Create(type, name: "sized_map");
        var e = Assert.Throws<ArgumentException>(() => map.Update(new byte[5], Value(map, 1)));
        Assert.Contains("'sized_map'", e.Message);
        e = Assert.Throws<ArgumentException>(() => map.Update(Key(1), new byte[map.UserValueSize + 1]));
        Assert.Contains("'sized_map'", e.Message);
        Assert.Throws<ArgumentException>(() => map.Lookup(Key(1), new byte[map.UserValueSize - 1]));
        Assert.Throws<ArgumentException>(() => map.Lookup(new byte[3], new byte[map.UserValueSize]));
        Assert.Throws<ArgumentException>(() => map.Delete(new byte[8]));
        Assert.Throws<ArgumentException>(() => map.GetNextKey(new byte[2], new byte[4]));
        e = Assert.Throws<ArgumentException>(() => map.GetNextKey([], new byte[8]));
        Assert.Contains("'sized_map'", e.Message);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void A_disposed_map_throws_from_the_control_plane_and_finds_nothing_for_programs(bpf_map_type type)
    {
        var map = Create(type);
        map.Update(Key(1), Value(map, 1));
        map.Dispose();
        map.Dispose();
        Assert.Throws<ObjectDisposedException>(() => map.Lookup(Key(1), new byte[map.UserValueSize]));
        Assert.Throws<ObjectDisposedException>(() => map.Update(Key(1), Value(map, 1)));
        Assert.Throws<ObjectDisposedException>(() => map.Delete(Key(1)));
        Assert.Throws<ObjectDisposedException>(() => map.GetNextKey([], new byte[4]));
        Assert.Equal(0, ProgramLookup(map, Key(1)));
        Assert.NotEqual(0, ProgramUpdate(map, Key(1), Value(map, 1)));
        Assert.Equal(MemoryRegion.Empty, map.ValueRegion);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void A_program_writes_through_the_looked_up_pointer_into_the_value_region(bpf_map_type type)
    {
        using var map = Create(type, valueSize: 16);
        Assert.Equal(0, ProgramUpdate(map, Key(5), Value(map, 5)));
        var p = ProgramLookup(map, Key(5));
        Assert.NotEqual(0, p);
        Assert.True(map.ValueRegion.Contains((ulong)p, 16));
        Assert.Equal(0, p % 8);
        *(ulong*)p = 99;
        var value = new byte[map.UserValueSize];
        Assert.Equal(0, map.Lookup(Key(5), value));
        Assert.Equal(99ul, Word(value));
        Assert.Equal(0, ProgramLookup(map, Key(6)));
        Assert.Equal(0, ProgramDelete(map, Key(5)));
        Assert.Equal(0, ProgramLookup(map, Key(5)));
    }

    [Fact]
    public void Access_flags_limit_the_control_plane_and_programs()
    {
        using var readOnly = Create(bpf_map_type.BPF_MAP_TYPE_HASH, flags: MapFlags.BPF_F_RDONLY);
        Assert.Equal(-Errno.EPERM, readOnly.Update(Key(1), Value(readOnly, 1)));
        Assert.Equal(-Errno.EPERM, readOnly.Delete(Key(1)));
        Assert.Equal(0, ProgramUpdate(readOnly, Key(1), Value(readOnly, 1)));
        Assert.Equal(1ul, Get(readOnly, Key(1)));

        using var writeOnly = Create(bpf_map_type.BPF_MAP_TYPE_HASH, flags: MapFlags.BPF_F_WRONLY);
        Assert.Equal(0, writeOnly.Update(Key(1), Value(writeOnly, 1)));
        Assert.Equal(-Errno.EPERM, writeOnly.Lookup(Key(1), new byte[8]));
        Assert.Equal(-Errno.EPERM, writeOnly.GetNextKey([], new byte[4]));

        using var programReadOnly = Create(bpf_map_type.BPF_MAP_TYPE_HASH, flags: MapFlags.BPF_F_RDONLY_PROG);
        Assert.Equal(0, programReadOnly.Update(Key(1), Value(programReadOnly, 1)));
        Assert.Equal(-Errno.EPERM, ProgramUpdate(programReadOnly, Key(1), Value(programReadOnly, 2)));
        Assert.Equal(-Errno.EPERM, ProgramDelete(programReadOnly, Key(1)));
        Assert.NotEqual(0, ProgramLookup(programReadOnly, Key(1)));
    }

    [Fact]
    public void BPF_F_ZERO_SEED_gives_the_same_iteration_order_in_every_map()
    {
        using var a = Create(bpf_map_type.BPF_MAP_TYPE_HASH, maxEntries: 64, flags: MapFlags.BPF_F_ZERO_SEED);
        using var b = Create(bpf_map_type.BPF_MAP_TYPE_HASH, maxEntries: 64, flags: MapFlags.BPF_F_ZERO_SEED);
        for (var k = 0u; k < 50; k++)
        {
            a.Update(Key(k), Value(a, k));
            b.Update(Key(k), Value(b, k));
        }
        Assert.Equal(Keys(a).Select(Convert.ToHexString), Keys(b).Select(Convert.ToHexString));
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void Program_side_lookups_allocate_nothing(bpf_map_type type)
    {
        using var map = Create(type, keySize: 8, maxEntries: 1024);
        for (var k = 0ul; k < 1024; k++)
            map.Update(Key64(k), Value(map, k));
        var key = new ulong[1];
        var found = 0;
        Assert.Equal(0, Allocations.InSteadyState(() =>
        {
            found = 0;
            fixed (ulong* k = key)
            {
                for (var i = 0; i < 1_000_000; i++)
                {
                    *k = (ulong)i & 2047; // half hits, half misses
                    if (map.LookupElem((byte*)k, i & 3) != null)
                        found++;
                }
            }
        }));
        Assert.Equal(Enumerable.Range(0, 1_000_000).Count(i => (i & 2047) < 1024), found);
    }
}
