using System.Runtime.InteropServices;

namespace XdpGate.Bpf.Xdp;

/// <summary>
/// The XDP context as programs see it (uapi <c>struct xdp_md</c>): all fields u32. Loads of <c>data</c>,
/// <c>data_end</c> and <c>data_meta</c> give the program full 64-bit packet pointers, as the kernel's context
/// rewrite does; see <see cref="XdpContext"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly
public struct xdp_md
{
    public uint data;
    public uint data_end;
    public uint data_meta;
    public uint ingress_ifindex;
    public uint rx_queue_index;
    public uint egress_ifindex;
}

/// <summary>XDP verdicts with the kernel's numbers (<c>enum xdp_action</c>).</summary>
public enum xdp_action : uint
{
    XDP_ABORTED = 0,
    XDP_DROP = 1,
    XDP_PASS = 2,
    XDP_TX = 3,
    XDP_REDIRECT = 4,
}
#pragma warning restore CA1707, IDE1006
