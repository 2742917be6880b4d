using System.Runtime.InteropServices;
using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Xdp;
using XdpGate.Linux.Bpf;
using XdpGate.Linux.Netlink;
using XdpGate.Linux;
using XdpGate.Uapi;

namespace XdpGate.Appliance.Ports.AfXdp;

/// <summary>
/// The in-kernel half of the AF_XDP port: an XDP program that sends each frame to the AF_XDP socket of the queue it
/// arrived on (its XSKMAP entry), or up the kernel stack when that queue has none. Built here, loaded with bpf(),
/// attached with netlink; <see cref="Dispose"/> detaches it. A run that crashed leaves it attached: the next
/// <see cref="Attach"/> recognises it by <see cref="ProgramName"/> and replaces it, and refuses anyone else's program.
/// The caller holds the interface's <see cref="Linux.Netns.InterfaceLock"/>, so a program of that name found there
/// cannot belong to a live run.
/// </summary>
public sealed class XskRedirectProgram : IDisposable
{
    /// <summary>The program's name in the kernel (bpftool prog show), how leftovers are recognised.</summary>
    public const string ProgramName = "xdpgate_xsk";

    private readonly RouteSocket route;
    private readonly BpfProgFd program;
    private bool attached;

    private XskRedirectProgram(RouteSocket route, int ifindex, BpfMapFd xskMap, BpfProgFd program, XdpAttachMode mode)
    {
        this.route = route;
        Ifindex = ifindex;
        XskMap = xskMap;
        this.program = program;
        Mode = mode;
        ProgId = BpfSyscall.ProgInfo(program).Id;
        attached = true;
    }

    public int Ifindex { get; }
    public XdpAttachMode Mode { get; }
    public uint ProgId { get; }

    /// <summary>The XSKMAP the program redirects through: queue index → AF_XDP socket.</summary>
    public BpfMapFd XskMap { get; }

    /// <summary>
    /// The program's instructions: r2 = ctx->rx_queue_index; return bpf_redirect_map(xsks, r2, XDP_PASS). The map is
    /// named by descriptor (BPF_PSEUDO_MAP_FD), so the kernel resolves it at load.
    /// </summary>
    public static bpf_insn[] Instructions(int xskMapFd) => Assembler.Assemble($"""
        r2 = *(u32 *)(r1 + {Marshal.OffsetOf<xdp_md>(nameof(xdp_md.rx_queue_index))})
        r1 = map_by_fd({xskMapFd}) ll
        r3 = {(int)xdp_action.XDP_PASS}
        call {(int)bpf_func_id.BPF_FUNC_redirect_map}
        exit
        """);

    /// <summary>
    /// Detaches a program named <see cref="ProgramName"/> that an earlier run left on the link; throws naming any
    /// other program found there, which this port must not replace. Returns whether a leftover was removed.
    /// </summary>
    public static bool RemoveLeftover(RouteSocket route, LinkInfo link)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(link);
        if (link.XdpProgId == 0)
            return false;
        using var existing = BpfSyscall.ProgGetFdById(link.XdpProgId);
        if (existing is null)
            return false;
        if (existing.Name != ProgramName)
            throw new InvalidOperationException(
                $"interface '{link.Name}' already runs XDP program '{existing.Name}' (id {link.XdpProgId}, {link.XdpMode}); detach it first (ip link set dev {link.Name} xdp off)");
        Links.DetachXdp(route, link.Ifindex, link.XdpMode);
        return true;
    }

    /// <summary>Creates the XSKMAP with <paramref name="queues"/> slots, loads the program and attaches it to <paramref name="link"/>.</summary>
    public static XskRedirectProgram Attach(RouteSocket route, LinkInfo link, int queues)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(link);
        RemoveLeftover(route, link);
        var map = BpfSyscall.XskMapCreate((uint)Math.Max(queues, link.RxQueues), "xdpgate_xsks");
        BpfProgFd? program = null;
        try
        {
            var insns = Instructions(map.Fd);
            program = BpfSyscall.ProgLoad(bpf_defines.BPF_PROG_TYPE_XDP, MemoryMarshal.AsBytes(insns.AsSpan()), name: ProgramName);
            var mode = Links.AttachXdp(route, link.Ifindex, program.Fd);
            return new XskRedirectProgram(route, link.Ifindex, map, program, mode);
        }
        catch
        {
            program?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Detaches the program (if it is still the one attached) and closes the map and program.</summary>
    public void Dispose()
    {
        if (attached)
        {
            attached = false;
            try
            {
                if (Links.Get(route, Ifindex).XdpProgId == ProgId)
                    Links.DetachXdp(route, Ifindex, Mode);
            }
            catch (Linux.SyscallException e) when (e.Errno == Errno.ENODEV)
            {
                // The interface is gone, and its program with it.
            }
            finally
            {
                program.Dispose();
                XskMap.Dispose();
            }
        }
    }
}
