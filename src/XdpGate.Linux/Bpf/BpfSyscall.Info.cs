using System.Text;
using XdpGate.Uapi;
using static XdpGate.Linux.Bpf.bpf_cmd;

namespace XdpGate.Linux.Bpf;

/// <summary>Loaded programs by id: their descriptor and their name and id, for finding programs attached earlier.</summary>
public static unsafe partial class BpfSyscall
{

    /// <summary>BPF_OBJ_GET_INFO_BY_FD of a program: its id and name (the leading fields of bpf_prog_info).</summary>
    public static (uint Id, string Name, uint Type) ProgInfo(BpfProgFd prog)
    {
        ArgumentNullException.ThrowIfNull(prog);
        using var lease = prog.Use();
        return ProgInfo(lease.Fd);
    }

    /// <summary>
    /// BPF_PROG_GET_FD_BY_ID: a descriptor of the loaded program <paramref name="id"/> with its name, or null when no
    /// program has that id (any more).
    /// </summary>
    public static BpfProgFd? ProgGetFdById(uint id)
    {
        var attr = new bpf_attr_get_id { prog_id = id };
        var fd = Invoke(BPF_PROG_GET_FD_BY_ID, &attr, sizeof(bpf_attr_get_id));
        if (fd == -Errno.ENOENT)
            return null;
        if (fd < 0)
            throw new BpfSyscallException(BPF_PROG_GET_FD_BY_ID, fd, $"prog id {id}");
        try
        {
            var (_, name, type) = ProgInfo(fd);
            return new BpfProgFd(fd, type, name, "");
        }
        catch
        {
            _ = Tmds.Linux.LibC.close(fd);
            throw;
        }
    }

    /// <summary>BPF_MAP_CREATE of an XSKMAP: AF_XDP socket descriptors by queue index, for bpf_redirect_map.</summary>
    public static BpfMapFd XskMapCreate(uint maxEntries, string name) =>
        MapCreate(bpf_defines.BPF_MAP_TYPE_XSKMAP, 4, 4, maxEntries, name: name);

    /// <summary>Puts the AF_XDP socket <paramref name="socketFd"/> at <paramref name="index"/> of an XSKMAP.</summary>
    public static void XskMapSet(BpfMapFd xskMap, uint index, int socketFd)
    {
        ArgumentNullException.ThrowIfNull(xskMap);
        if (xskMap.MapType != bpf_defines.BPF_MAP_TYPE_XSKMAP)
            throw new ArgumentException($"{xskMap} is not an XSKMAP", nameof(xskMap));
        MapUpdate(xskMap, BitConverter.GetBytes(index), BitConverter.GetBytes(socketFd));
    }

    private static (uint Id, string Name, uint Type) ProgInfo(int fd)
    {
        var info = default(bpf_prog_info);
        var attr = new bpf_attr_info { bpf_fd = (uint)fd, info_len = (uint)sizeof(bpf_prog_info), info = (ulong)&info };
        var result = Invoke(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(bpf_attr_info));
        if (result < 0)
            throw new BpfSyscallException(BPF_OBJ_GET_INFO_BY_FD, result, $"prog fd {fd}");
        var name = new ReadOnlySpan<byte>(info.name, bpf_defines.BPF_OBJ_NAME_LEN);
        var end = name.IndexOf((byte)0);
        return (info.id, Encoding.UTF8.GetString(end < 0 ? name : name[..end]), info.type);
    }
}
