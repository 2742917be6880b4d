namespace XdpGate.Bpf.Program;

/// <summary>Program types with the kernel's numbers (uapi/linux/bpf.h); the type decides context, helpers and checks.</summary>
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly
public enum bpf_prog_type : uint
{
    /// <summary>No context: r1 points at a plain memory buffer and r2 is its length (uBPF's convention, for `vm run`).</summary>
    BPF_PROG_TYPE_UNSPEC = 0,
    BPF_PROG_TYPE_SOCKET_FILTER = 1,
    BPF_PROG_TYPE_XDP = 6,
}
