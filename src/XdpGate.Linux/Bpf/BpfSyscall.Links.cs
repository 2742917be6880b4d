using static XdpGate.Linux.Bpf.bpf_cmd;

namespace XdpGate.Linux.Bpf;

/// <summary>BPF_LINK_CREATE: attachments owned by a descriptor.</summary>
public static unsafe partial class BpfSyscall
{
    /// <summary>Attaches <paramref name="program"/> to the interface <paramref name="ifindex"/> at <paramref name="attachType"/>.</summary>
    public static BpfLinkFd LinkCreate(BpfProgFd program, int ifindex, uint attachType)
    {
        ArgumentNullException.ThrowIfNull(program);
        using var lease = program.Use();
        var attr = new bpf_attr_link_create
        {
            prog_fd = (uint)lease.Fd,
            target_ifindex = (uint)ifindex,
            attach_type = attachType,
        };
        var description = $"{program.Name} at attach type {attachType} of ifindex {ifindex}";
        var result = Invoke(BPF_LINK_CREATE, &attr, sizeof(bpf_attr_link_create));
        if (result < 0)
            throw new BpfSyscallException(BPF_LINK_CREATE, result, description);
        return new BpfLinkFd(result, description);
    }
}
