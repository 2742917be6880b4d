using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Tests.Maps.HashMapTestKit;

namespace XdpGate.Bpf.Tests.Maps;

public class HashMapCreationTests
{
    private static BpfLoadException Refused(bpf_map_type type, uint keySize = 4, uint valueSize = 8, uint maxEntries = 16, uint flags = 0) =>
        Assert.Throws<BpfLoadException>(() => Create(type, keySize, valueSize, maxEntries, flags, name: "refused_map"));

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void A_zero_key_size_is_refused_with_EINVAL_naming_the_map(bpf_map_type type)
    {
        var e = Refused(type, keySize: 0);
        Assert.Contains("'refused_map'", e.Message);
        Assert.Contains("key_size", e.Message);
        Assert.EndsWith("(EINVAL)", e.Message);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void A_zero_value_size_or_zero_max_entries_is_refused_with_EINVAL(bpf_map_type type)
    {
        Assert.Contains("value_size", Refused(type, valueSize: 0).Message);
        Assert.Contains("max_entries", Refused(type, maxEntries: 0).Message);
        Assert.EndsWith("(EINVAL)", Refused(type, maxEntries: 0).Message);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void Creation_flags_outside_the_hash_mask_are_refused_with_EINVAL(bpf_map_type type)
    {
        foreach (var flag in new[] { MapFlags.BPF_F_MMAPABLE, MapFlags.BPF_F_INNER_MAP, 1u << 20 })
            Assert.EndsWith("(EINVAL)", Refused(type, flags: flag).Message);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void Contradictory_access_flags_are_refused_with_EINVAL(bpf_map_type type)
    {
        Assert.EndsWith("(EINVAL)", Refused(type, flags: MapFlags.BPF_F_RDONLY_PROG | MapFlags.BPF_F_WRONLY_PROG).Message);
        Assert.EndsWith("(EINVAL)", Refused(type, flags: MapFlags.BPF_F_RDONLY | MapFlags.BPF_F_WRONLY).Message);
    }

    [Theory]
    [MemberData(nameof(LruTypes), MemberType = typeof(HashMapTestKit))]
    public void LRU_maps_refuse_BPF_F_NO_PREALLOC_with_ENOTSUPP(bpf_map_type type)
    {
        var e = Refused(type, flags: MapFlags.BPF_F_NO_PREALLOC);
        Assert.Contains("BPF_F_NO_PREALLOC", e.Message);
        Assert.EndsWith("(ENOTSUPP)", e.Message);
    }

    [Theory]
    [MemberData(nameof(NonLruTypes), MemberType = typeof(HashMapTestKit))]
    public void Plain_hash_maps_accept_BPF_F_NO_PREALLOC_and_refuse_BPF_F_NO_COMMON_LRU(bpf_map_type type)
    {
        using var map = Create(type, flags: MapFlags.BPF_F_NO_PREALLOC);
        Assert.Equal(0, map.Update(Key(1), Value(map, 1)));
        Assert.EndsWith("(EINVAL)", Refused(type, flags: MapFlags.BPF_F_NO_COMMON_LRU).Message);
    }

    [Theory]
    [MemberData(nameof(LruTypes), MemberType = typeof(HashMapTestKit))]
    public void LRU_maps_accept_BPF_F_NO_COMMON_LRU(bpf_map_type type)
    {
        using var map = Create(type, flags: MapFlags.BPF_F_NO_COMMON_LRU);
        Assert.True(map.IsLru);
    }

    [Theory]
    [InlineData(bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH)]
    [InlineData(bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH)]
    public void Per_CPU_maps_refuse_a_NUMA_node_and_slots_above_PCPU_MIN_UNIT_SIZE(bpf_map_type type)
    {
        Assert.EndsWith("(EINVAL)", Refused(type, flags: MapFlags.BPF_F_NUMA_NODE).Message);
        Assert.EndsWith("(E2BIG)", Refused(type, valueSize: (32 << 10) + 1).Message);
        using var largest = Create(type, valueSize: 32 << 10, maxEntries: 1);
        Assert.Equal(4 * (32 << 10), largest.UserValueSize);
    }

    [Fact]
    public void A_plain_hash_map_accepts_a_NUMA_node_and_values_above_PCPU_MIN_UNIT_SIZE()
    {
        using var map = Create(bpf_map_type.BPF_MAP_TYPE_HASH, valueSize: (32 << 10) + 1, maxEntries: 1, flags: MapFlags.BPF_F_NUMA_NODE);
        Assert.Equal((32 << 10) + 1, map.UserValueSize);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void Key_and_value_sizes_reaching_KMALLOC_MAX_SIZE_are_refused_with_E2BIG(bpf_map_type type)
    {
        var e = Refused(type, keySize: 4u << 20, valueSize: 8);
        Assert.Contains("key_size", e.Message);
        Assert.EndsWith("(E2BIG)", e.Message);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void More_than_two_to_the_31_entries_are_refused_with_E2BIG(bpf_map_type type) =>
        Assert.EndsWith("(E2BIG)", Refused(type, maxEntries: (1u << 31) + 1).Message);

    [Fact]
    public void A_type_that_is_not_a_hash_map_is_refused()
    {
        var e = Refused(bpf_map_type.BPF_MAP_TYPE_ARRAY);
        Assert.Contains("BPF_MAP_TYPE_ARRAY", e.Message);
        Assert.EndsWith("(EINVAL)", e.Message);
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void The_type_decides_per_CPU_values_and_LRU_eviction(bpf_map_type type)
    {
        using var map = Create(type, valueSize: 12, cpus: 3);
        var perCpu = type is bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH;
        Assert.Equal(perCpu, map.IsPerCpu);
        Assert.Equal(type is bpf_map_type.BPF_MAP_TYPE_LRU_HASH or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH, map.IsLru);
        Assert.Equal(perCpu ? 16 * 3 : 12, map.UserValueSize);
    }

    [Fact]
    public void Disposing_a_map_unregisters_its_handle()
    {
        using var map = Create(bpf_map_type.BPF_MAP_TYPE_HASH);
        Assert.Same(map, MapRegistry.FromHandle(map.Handle));
        map.Dispose();
        Assert.Null(MapRegistry.FromHandle(map.Handle));
    }

    [Fact]
    public void The_value_region_covers_every_preallocated_value_and_is_8_byte_aligned()
    {
        using var map = Create(bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH, valueSize: 12, maxEntries: 100, cpus: 2);
        var region = map.ValueRegion;
        Assert.Equal(0, region.Start % 8);
        Assert.Equal(16 * 100 * 2, region.Length);
        Assert.True(region.Writable);
        using var readOnly = Create(bpf_map_type.BPF_MAP_TYPE_HASH, flags: MapFlags.BPF_F_RDONLY_PROG);
        Assert.False(readOnly.ValueRegion.Writable);
    }
}
