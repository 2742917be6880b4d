using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Tests.Maps.HashMapTestKit;

namespace XdpGate.Bpf.Tests.Maps;

public unsafe class PerCpuHashMapTests
{
    public static TheoryData<bpf_map_type> PerCpuTypes() =>
        new(bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH, bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH);

    [Theory]
    [MemberData(nameof(PerCpuTypes))]
    public void The_control_plane_sees_every_CPU_slot_padded_to_8_bytes(bpf_map_type type)
    {
        using var map = Create(type, valueSize: 4, cpus: 3);
        Assert.Equal(24, map.UserValueSize);
        var value = new byte[24];
        for (var i = 0; i < value.Length; i++)
            value[i] = (byte)(i + 1);
        Assert.Equal(0, map.Update(Key(1), value));
        var read = new byte[24];
        Assert.Equal(0, map.Lookup(Key(1), read));
        Assert.Equal(value, read); // whole slots, padding included, as the kernel's bpf_long_memcpy copies them
        for (var cpu = 0; cpu < 3; cpu++)
            Assert.Equal(BitConverter.ToUInt32(value, cpu * 8), *(uint*)ProgramLookup(map, Key(1), cpu));
    }

    [Theory]
    [MemberData(nameof(PerCpuTypes))]
    public void A_program_insert_fills_its_CPU_slot_and_zeroes_the_others(bpf_map_type type)
    {
        using var map = Create(type, valueSize: 8, cpus: 4);
        Assert.Equal(0, ProgramUpdate(map, Key(9), BitConverter.GetBytes(77ul), cpu: 2));
        var read = new byte[32];
        Assert.Equal(0, map.Lookup(Key(9), read));
        Assert.Equal([0ul, 0ul, 77ul, 0ul], Enumerable.Range(0, 4).Select(cpu => Word(read, cpu)));
    }

    [Theory]
    [MemberData(nameof(PerCpuTypes))]
    public void A_program_update_changes_only_its_CPU_slot(bpf_map_type type)
    {
        using var map = Create(type, valueSize: 8, cpus: 4);
        map.Update(Key(9), Value(map, 5));
        Assert.Equal(0, ProgramUpdate(map, Key(9), BitConverter.GetBytes(6ul), MapFlags.BPF_EXIST, cpu: 1));
        Assert.Equal(-Errno.EEXIST, ProgramUpdate(map, Key(9), BitConverter.GetBytes(7ul), MapFlags.BPF_NOEXIST, cpu: 3));
        var read = new byte[32];
        map.Lookup(Key(9), read);
        Assert.Equal([5ul, 6ul, 5ul, 5ul], Enumerable.Range(0, 4).Select(cpu => Word(read, cpu)));
    }

    [Theory]
    [MemberData(nameof(PerCpuTypes))]
    public void Each_CPU_gets_its_own_slot_pointer_inside_the_value_region(bpf_map_type type)
    {
        using var map = Create(type, valueSize: 8, cpus: 4);
        map.Update(Key(1), Value(map, 0));
        var pointers = Enumerable.Range(0, 4).Select(cpu => ProgramLookup(map, Key(1), cpu)).ToArray();
        Assert.Equal(4, pointers.Distinct().Count());
        foreach (var (p, cpu) in pointers.Select((p, cpu) => (p, cpu)))
        {
            Assert.True(map.ValueRegion.Contains((ulong)p, 8));
            *(ulong*)p += (ulong)cpu + 1; // what a program's counter increment does
        }
        var read = new byte[32];
        map.Lookup(Key(1), read);
        Assert.Equal(10ul, Enumerable.Range(0, 4).Aggregate(0ul, (sum, cpu) => sum + Word(read, cpu)));
    }

    [Theory]
    [MemberData(nameof(PerCpuTypes))]
    public void A_CPU_index_out_of_range_finds_nothing_and_updates_nothing(bpf_map_type type)
    {
        using var map = Create(type, cpus: 2);
        map.Update(Key(1), Value(map, 1));
        Assert.Equal(0, ProgramLookup(map, Key(1), cpu: 2));
        Assert.Equal(0, ProgramLookup(map, Key(1), cpu: -1));
        Assert.Equal(-Errno.EINVAL, ProgramUpdate(map, Key(1), new byte[8], cpu: 2));
    }
}
