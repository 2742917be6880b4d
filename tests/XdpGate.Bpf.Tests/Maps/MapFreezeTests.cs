using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Tests.Kernel;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Kernel;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Maps;

/// <summary>BPF_MAP_FREEZE: afterwards the control plane can no longer write the map; programs are not affected.</summary>
public sealed unsafe class MapFreezeTests
{
    private static readonly MapDefinition Hash = new("frozen", bpf_map_type.BPF_MAP_TYPE_HASH, 4, 8, 4);

    public static TheoryData<MapDefinition> Definitions() =>
    [
        new MapDefinition("frozen", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 8, 4),
        new MapDefinition("frozen", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 8, 1, MapFlags.BPF_F_RDONLY_PROG),
        Hash,
    ];

    [Theory]
    [MemberData(nameof(Definitions))]
    public void A_frozen_map_refuses_control_plane_updates_and_deletes_with_EPERM_and_keeps_its_values(MapDefinition definition)
    {
        using var map = MapFactory.Create(definition);
        var key = new byte[4];
        Assert.Equal(0, map.Update(key, BitConverter.GetBytes(42UL)));
        Assert.False(map.IsFrozen);

        Assert.Equal(0, map.Freeze());
        Assert.True(map.IsFrozen);
        Assert.Equal(-Errno.EPERM, map.Update(key, BitConverter.GetBytes(7UL)));
        Assert.Equal(-Errno.EPERM, map.Delete(key));
        var value = new byte[8];
        Assert.Equal(0, map.Lookup(key, value));
        Assert.Equal(42UL, BitConverter.ToUInt64(value));
    }

    [Fact]
    public void Freezing_twice_fails_with_EPERM_as_the_kernel_drops_the_write_permission_first()
    {
        using var map = MapFactory.Create(Hash);
        Assert.Equal(0, map.Freeze());
        Assert.Equal(-Errno.EPERM, map.Freeze());
        Assert.True(map.IsFrozen);
    }

    [Fact]
    public void Programs_still_write_a_frozen_map_that_is_not_read_only_to_them()
    {
        using var map = MapFactory.Create(Hash);
        Assert.Equal(0, map.Freeze());
        var key = 3u;
        var value = 9UL;
        Assert.Equal(0, map.UpdateElem((byte*)&key, (byte*)&value, MapFlags.BPF_ANY, cpu: 0));
        Assert.Equal(9UL, *(ulong*)map.LookupElem((byte*)&key, cpu: 0));
    }

    [SkippableFact]
    public void The_kernel_gives_a_frozen_map_the_same_errors()
    {
        using var ours = MapFactory.Create(Hash);
        var key = new byte[4];
        ours.Update(key, BitConverter.GetBytes(42UL));
        ours.Freeze();
        string[] engine = [$"update: {ErrnoName(ours.Update(key, new byte[8]))}", $"delete: {ErrnoName(ours.Delete(key))}", $"freeze again: {ErrnoName(ours.Freeze())}"];
        KernelOracle.Check("kernel/frozen-map-errors.txt", "control-plane writes to a frozen hash map: the errno of each", engine, () =>
        {
            using var kernel = BpfSyscall.MapCreate((uint)Hash.Type, Hash.KeySize, Hash.ValueSize, Hash.MaxEntries, name: "frozen");
            BpfSyscall.MapUpdate(kernel, key, BitConverter.GetBytes(42UL));
            BpfSyscall.MapFreeze(kernel);
            return [$"update: {KernelErrno(() => BpfSyscall.MapUpdate(kernel, key, new byte[8]))}", $"delete: {KernelErrno(() => BpfSyscall.MapDelete(kernel, key))}",
                $"freeze again: {KernelErrno(() => BpfSyscall.MapFreeze(kernel))}"];
        });
    }

    private static string ErrnoName(int result) => result == 0 ? "ok" : ErrnoText.Name(-result);

    private static string KernelErrno(Action call)
    {
        try
        {
            call();
            return "ok";
        }
        catch (BpfSyscallException e)
        {
            return ErrnoText.Name(e.Errno);
        }
    }
}
