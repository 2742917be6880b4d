using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Maps;

public sealed class ProgArrayAndDevMapTests
{
    private static byte[] U32(uint value) => BitConverter.GetBytes(value);

    [Fact]
    public void Program_arrays_hold_programs_of_one_type_and_report_their_ids()
    {
        using var programs = new ProgArrayMap(new MapDefinition("jmp", bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4));
        var xdp = TestPrograms.Xdp("r0 = 2\nexit");
        var raw = TestPrograms.Raw("r0 = 2\nexit");
        Assert.Equal(0, programs.SetProgram(1, xdp));
        Assert.Equal(-Errno.EINVAL, programs.SetProgram(2, raw));
        Assert.Equal(-Errno.E2BIG, programs.SetProgram(4, xdp));

        var value = new byte[4];
        Assert.Equal(0, programs.Lookup(U32(1), value));
        Assert.Equal(xdp.Id, BitConverter.ToInt32(value));
        Assert.Equal(-Errno.ENOENT, programs.Lookup(U32(0), value));

        Assert.Equal(0, programs.Update(U32(3), U32((uint)xdp.Id)));
        Assert.Same(xdp, programs.GetProgram(3));
        Assert.Equal(-Errno.EINVAL, programs.Update(U32(3), U32((uint)xdp.Id), MapFlags.BPF_EXIST));
        Assert.Equal(-Errno.EBADF, programs.Update(U32(3), U32(0x7fff_fff0)));
        Assert.Equal(0, programs.Delete(U32(3)));
        Assert.Equal(-Errno.ENOENT, programs.Delete(U32(3)));
    }

    [Fact]
    public void Devmaps_map_slots_to_ifindexes_and_iterate_every_slot_like_the_kernel()
    {
        using var ports = new DevMap(new MapDefinition("ports", bpf_map_type.BPF_MAP_TYPE_DEVMAP, 4, 8, 3));
        Assert.Equal(0, ports.Update(U32(2), [5, 0, 0, 0, 0, 0, 0, 0]));
        Assert.Equal(-Errno.EEXIST, ports.Update(U32(2), new byte[8], MapFlags.BPF_NOEXIST));
        Assert.Equal(-Errno.EINVAL, ports.Update(U32(1), new byte[8]));
        Assert.Equal(-Errno.EOPNOTSUPP, ports.Update(U32(1), [5, 0, 0, 0, 1, 0, 0, 0]));
        Assert.Equal(5u, ports.Ifindex(2));
        Assert.Equal(0u, ports.Ifindex(1));
        Assert.Equal(KeyValuePair.Create(U32(2), new byte[] { 5, 0, 0, 0, 0, 0, 0, 0 }), Assert.Single(ports.Dump()),
            new KeyValueComparer());
        var next = new byte[4];
        Assert.Equal(0, ports.GetNextKey(U32(0), next));
        Assert.Equal(1u, BitConverter.ToUInt32(next));
        Assert.Equal(0, ports.Delete(U32(2)));
        Assert.Equal(-Errno.ENOENT, ports.Delete(U32(2)));
    }

    [Theory]
    [InlineData(4u, 12u, "value_size must be 4 or 8")]
    [InlineData(8u, 4u, "key_size must be 4")]
    public void Devmap_definitions_are_checked(uint key, uint value, string problem)
    {
        var e = Assert.Throws<BpfLoadException>(() => new DevMap(new MapDefinition("d", bpf_map_type.BPF_MAP_TYPE_DEVMAP, key, value, 4)));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    private sealed class KeyValueComparer : IEqualityComparer<KeyValuePair<byte[], byte[]>>
    {
        public bool Equals(KeyValuePair<byte[], byte[]> x, KeyValuePair<byte[], byte[]> y) =>
            x.Key.SequenceEqual(y.Key) && x.Value.SequenceEqual(y.Value);

        public int GetHashCode(KeyValuePair<byte[], byte[]> obj) => obj.Key.Length;
    }
}

public sealed class DevMapHashTests
{
    [Fact]
    public void Devmap_hash_entries_are_keyed_by_any_u32_and_redirect_programs_through_them()
    {
        using var ports = (DevMapHash)MapFactory.Create(new MapDefinition("ports", bpf_map_type.BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, 8));
        Assert.Equal(0, ports.Update(BitConverter.GetBytes(1000u), BitConverter.GetBytes(7u)));
        Assert.Equal(-Errno.EINVAL, ports.Update(BitConverter.GetBytes(1001u), BitConverter.GetBytes(0u)));
        Assert.Equal(7u, ports.Ifindex(1000));
        Assert.Equal(0u, ports.Ifindex(1));
        var program = TestPrograms.Xdp("""
            r1 = map_by_idx(0) ll
            r2 = 1000
            r3 = 1
            call 51
            exit
            """, ports);
        using var vm = new XdpGate.Bpf.Execution.BpfVm();
        using var frame = new XdpGate.Bpf.Xdp.PacketBuffer();
        frame.Reset(new byte[60]);
        Assert.Equal(XdpGate.Bpf.Xdp.xdp_action.XDP_REDIRECT, vm.RunXdp(program, ref frame.Context));
        Assert.Same(ports, vm.RedirectMap);
        Assert.Equal(0, ports.Delete(BitConverter.GetBytes(1000u)));
        frame.Reset(new byte[60]);
        Assert.Equal(XdpGate.Bpf.Xdp.xdp_action.XDP_DROP, vm.RunXdp(program, ref frame.Context));
    }
}
