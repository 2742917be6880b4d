using System.Runtime.InteropServices;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Maps;

public sealed class ArrayMapTests
{
    private static ArrayMap Array(uint valueSize = 8, uint entries = 4, bool perCpu = false, int cpus = 1) =>
        new(new MapDefinition("a", perCpu ? bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY : bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, valueSize, entries), cpus);

    private static byte[] Key(uint index) => BitConverter.GetBytes(index);

    [Fact]
    public void Elements_always_exist_and_start_zeroed()
    {
        using var map = Array();
        var value = new byte[8];
        Assert.Equal(0, map.Lookup(Key(3), value));
        Assert.All(value, b => Assert.Equal(0, b));
        Assert.Equal(-Errno.ENOENT, map.Lookup(Key(4), value));
    }

    [Fact]
    public void Update_flags_follow_the_kernel()
    {
        using var map = Array();
        var value = new byte[8];
        Assert.Equal(-Errno.EEXIST, map.Update(Key(0), value, MapFlags.BPF_NOEXIST));
        Assert.Equal(0, map.Update(Key(0), value, MapFlags.BPF_EXIST));
        Assert.Equal(0, map.Update(Key(0), value, MapFlags.BPF_ANY));
        Assert.Equal(-Errno.E2BIG, map.Update(Key(4), value));
        Assert.Equal(-Errno.EINVAL, map.Update(Key(0), value, 3));
        Assert.Equal(-Errno.EINVAL, map.Delete(Key(0)));
    }

    [Fact]
    public void Iteration_visits_every_index_in_order_and_restarts_on_a_missing_key()
    {
        using var map = Array(entries: 3);
        var next = new byte[4];
        Assert.Equal(0, map.GetNextKey([], next));
        Assert.Equal(0u, BitConverter.ToUInt32(next));
        Assert.Equal(0, map.GetNextKey(Key(1), next));
        Assert.Equal(2u, BitConverter.ToUInt32(next));
        Assert.Equal(-Errno.ENOENT, map.GetNextKey(Key(2), next));
        Assert.Equal(0, map.GetNextKey(Key(99), next));
        Assert.Equal(0u, BitConverter.ToUInt32(next));
        Assert.Equal(3, map.Dump().Count());
    }

    [Fact]
    public unsafe void Per_cpu_values_have_one_slot_per_cpu_each_rounded_to_8_bytes()
    {
        using var map = Array(valueSize: 4, perCpu: true, cpus: 3);
        Assert.Equal(24, map.UserValueSize);
        uint key = 1;
        uint v = 0xabcd;
        Assert.Equal(0, map.UpdateElem((byte*)&key, (byte*)&v, 0, cpu: 2));
        var all = new byte[24];
        Assert.Equal(0, map.Lookup(Key(1), all));
        Assert.Equal(0u, BitConverter.ToUInt32(all, 0));
        Assert.Equal(0u, BitConverter.ToUInt32(all, 8));
        Assert.Equal(0xabcdu, BitConverter.ToUInt32(all, 16));
        Assert.Equal(0xabcdu, *(uint*)map.LookupElem((byte*)&key, 2));
    }

    [Fact]
    public void Direct_value_addresses_exist_only_for_single_element_plain_arrays_within_the_value()
    {
        using var map = Array(valueSize: 16, entries: 1);
        Assert.NotEqual(0, map.DirectValueAddress(15));
        Assert.Equal(0, map.DirectValueAddress(16));
        using var larger = Array(valueSize: 16, entries: 2);
        Assert.Equal(0, larger.DirectValueAddress(0));
        using var perCpu = Array(perCpu: true, entries: 1);
        Assert.Equal(0, perCpu.DirectValueAddress(0));
    }

    [Theory]
    [InlineData(8u, 8u, 4u, 0u, "key_size must be 4")]
    [InlineData(4u, 0u, 4u, 0u, "value_size must be greater than 0")]
    [InlineData(4u, 8u, 0u, 0u, "max_entries must be greater than 0")]
    [InlineData(4u, 8u, 4u, 1u, "map_flags 0x1 are not valid")]
    public void Bad_definitions_are_refused_naming_the_problem(uint key, uint value, uint entries, uint flags, string problem)
    {
        var e = Assert.Throws<BpfLoadException>(() => new ArrayMap(new MapDefinition("bad", bpf_map_type.BPF_MAP_TYPE_ARRAY, key, value, entries, flags)));
        Assert.Contains("'bad'", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_key_or_value_sizes_from_the_control_plane_throw_naming_the_map()
    {
        using var map = Array();
        var e = Assert.Throws<ArgumentException>(() => map.Lookup(new byte[3], new byte[8]));
        Assert.Contains("map 'a'", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => map.Update(Key(0), new byte[7]));
    }

    [Fact]
    public async Task Concurrent_updates_never_show_a_torn_value_to_control_plane_readers()
    {
        using var map = Array(valueSize: 64, entries: 2);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));
        var writer = Task.Factory.StartNew(() =>
        {
            var value = new byte[64];
            for (ulong n = 1; !stop.IsCancellationRequested; n++)
            {
                MemoryMarshal.Cast<byte, ulong>(value.AsSpan()).Fill(n);
                Assert.Equal(0, map.Update(Key((uint)(n & 1)), value));
            }
        }, TaskCreationOptions.LongRunning);
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
        {
            var value = new byte[64];
            var reads = 0;
            while (!stop.IsCancellationRequested)
            {
                Assert.Equal(0, map.Lookup(Key((uint)(reads++ & 1)), value));
                var words = MemoryMarshal.Cast<byte, ulong>(value.AsSpan());
                foreach (var word in words)
                    Assert.Equal(words[0], word);
            }
            return reads;
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll([writer, .. readers]);
        Assert.All(readers, r => Assert.True(r.Result > 100));
    }
}
