using System.Runtime.InteropServices;
using XdpGate.Bpf.Isa;
using XdpGate.Linux.Bpf;
using XdpGate.Linux.Netlink;
using XdpGate.Uapi;

namespace XdpGate.Appliance.Bench;

/// <summary>A program loaded into the running kernel and attached to an interface as native XDP, for the kernel's side of a benchmark.</summary>
public sealed class KernelXdp : IDisposable
{
    private readonly RouteSocket route;
    private readonly BpfProgFd program;
    private readonly int ifindex;
    private readonly XdpAttachMode mode;

    private KernelXdp(RouteSocket route, BpfProgFd program, int ifindex, XdpAttachMode mode)
    {
        this.route = route;
        this.program = program;
        this.ifindex = ifindex;
        this.mode = mode;
    }

    /// <summary>Loads <paramref name="instructions"/> and attaches them to <paramref name="name"/> (in the calling thread's namespace).</summary>
    public static KernelXdp Attach(string name, bpf_insn[] instructions)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        var route = new RouteSocket();
        BpfProgFd? program = null;
        try
        {
            var link = Links.Get(route, name);
            program = BpfSyscall.ProgLoad(bpf_defines.BPF_PROG_TYPE_XDP, MemoryMarshal.AsBytes(instructions.AsSpan()), name: "xdpgate_bench");
            var mode = Links.AttachXdp(route, link.Ifindex, program.Fd);
            return new KernelXdp(route, program, link.Ifindex, mode);
        }
        catch
        {
            program?.Dispose();
            route.Dispose();
            throw;
        }
    }

    /// <summary>The sum over CPUs of slot 0 of a kernel per-CPU array of u64.</summary>
    public static ulong Count(BpfMapFd counter)
    {
        ArgumentNullException.ThrowIfNull(counter);
        var values = new byte[BpfSyscall.UserValueSize((uint)Uapi.bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 8)];
        return BpfSyscall.MapLookup(counter, new byte[4], values) ? VethBench.SumSlots(values) : 0;
    }

    public void Dispose()
    {
        try
        {
            Links.DetachXdp(route, ifindex, mode);
        }
        finally
        {
            program.Dispose();
            route.Dispose();
        }
    }
}
