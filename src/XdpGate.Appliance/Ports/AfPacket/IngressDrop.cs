using System.Runtime.InteropServices;
using XdpGate.Bpf.Isa;
using XdpGate.Linux.Bpf;
using XdpGate.Uapi;

namespace XdpGate.Appliance.Ports.AfPacket;

/// <summary>
/// Keeps the host stack from also receiving what an AF_PACKET port takes, so the program's verdict is a frame's only
/// fate, as under XDP: a DROP'd frame never reaches a host socket and a PASS'd one arrives once, through the pass
/// target. It is a tc program returning TC_ACT_SHOT at the interface's ingress (tcx). Packet sockets are handed a
/// frame before tc ingress runs, so the port's own sockets still see everything. The attachment is a bpf link held
/// by this process: it goes when disposed or when the process ends, a crash included, so no run leaves it behind.
/// </summary>
public sealed class IngressDrop : IDisposable
{
    /// <summary>The program's name in the kernel (bpftool prog show).</summary>
    public const string ProgramName = "xdpgate_steal";

    /// <summary><c>BPF_TCX_INGRESS</c> of enum bpf_attach_type (Linux 6.6; newer than the headers the layout tests compile against).</summary>
#pragma warning disable CA1707 // kernel name kept exactly
    public const uint BPF_TCX_INGRESS = 46;

    /// <summary><c>TC_ACT_SHOT</c> of uapi/linux/pkt_cls.h: drop the packet.</summary>
    public const int TC_ACT_SHOT = 2;
#pragma warning restore CA1707

    private readonly BpfProgFd program;
    private readonly BpfLinkFd link;

    private IngressDrop(BpfProgFd program, BpfLinkFd link)
    {
        this.program = program;
        this.link = link;
    }

    /// <summary>Attaches to <paramref name="ifindex"/> (in the calling thread's namespace); throws <see cref="BpfSyscallException"/> when the kernel cannot.</summary>
    public static IngressDrop Attach(int ifindex)
    {
        var program = BpfSyscall.ProgLoad(bpf_defines.BPF_PROG_TYPE_SCHED_CLS,
            MemoryMarshal.AsBytes(Assembler.Assemble($"r0 = {TC_ACT_SHOT}\nexit").AsSpan()), name: ProgramName);
        try
        {
            return new IngressDrop(program, BpfSyscall.LinkCreate(program, ifindex, BPF_TCX_INGRESS));
        }
        catch
        {
            program.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Attaches where the kernel has tcx (Linux 6.6); elsewhere returns null with the reason in
    /// <paramref name="unsupported"/>, and the host stack keeps receiving the interface's frames.
    /// </summary>
    public static IngressDrop? AttachIfSupported(int ifindex, out string? unsupported)
    {
        try
        {
            unsupported = null;
            return Attach(ifindex);
        }
        catch (BpfSyscallException e) when (e.Errno is Errno.EINVAL or Errno.EOPNOTSUPP)
        {
            unsupported = $"this kernel has no tcx ingress (Linux 6.6): {e.Message}";
            return null;
        }
    }

    public void Dispose()
    {
        link.Dispose();
        program.Dispose();
    }
}
