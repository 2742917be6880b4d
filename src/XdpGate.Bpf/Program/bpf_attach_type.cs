namespace XdpGate.Bpf.Program;

/// <summary>
/// The expected attach types of XDP programs, with the numbers of the kernel's <c>enum bpf_attach_type</c>
/// (uapi/linux/bpf.h). A program written for a devmap or cpumap entry runs after a redirect and may read egress_ifindex.
/// </summary>
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly
public enum bpf_attach_type : uint
{
    BPF_XDP_DEVMAP = 33,
    BPF_XDP_CPUMAP = 35,
    BPF_XDP = 37,
}
#pragma warning restore CA1707, IDE1006
