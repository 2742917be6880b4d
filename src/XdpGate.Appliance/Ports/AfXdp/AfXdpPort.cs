using XdpGate.Linux.AfXdp;
using XdpGate.Linux.Netlink;
using XdpGate.Linux.Netns;

namespace XdpGate.Appliance.Ports.AfXdp;

/// <summary>
/// An interface driven through AF_XDP: one socket per queue (queue w for worker w), each with its own UMEM, and
/// the redirect program attached to the interface (native XDP where the device's kernel driver has it, generic
/// otherwise). Opened in the calling thread's network namespace. Dispose closes the sockets and detaches the program.
/// </summary>
public sealed class AfXdpPort : IPort
{
    private readonly RouteSocket route;
    private readonly InterfaceLock claim;
    private readonly XskRedirectProgram program;
    private readonly AfXdpQueue[] queues;

    private AfXdpPort(string name, RouteSocket route, InterfaceLock claim, LinkInfo link, XskRedirectProgram program, AfXdpQueue[] queues)
    {
        this.claim = claim;
        Name = name;
        Ifindex = link.Ifindex;
        this.route = route;
        this.program = program;
        this.queues = queues;
    }

    public string Name { get; }
    public int Ifindex { get; }
    public IReadOnlyList<IPortQueue> Queues => queues;

    /// <summary>Where the redirect program runs (native or generic XDP).</summary>
    public XdpAttachMode AttachMode => program.Mode;

    /// <summary>True when the kernel bound every socket in zero-copy mode.</summary>
    public bool ZeroCopy => queues.All(q => q.ZeroCopy);

    public static AfXdpPort Open(string name, PortOptions options, XskBindMode mode = XskBindMode.Auto)
    {
        ArgumentNullException.ThrowIfNull(options);
        var route = new RouteSocket();
        var queues = new List<AfXdpQueue>();
        InterfaceLock? claim = null;
        XskRedirectProgram? program = null;
        try
        {
            var link = Links.Get(route, name);
            if (options.Queues > link.RxQueues)
                throw new ArgumentOutOfRangeException(nameof(options), options.Queues,
                    $"interface '{name}' has {link.RxQueues} RX queue(s); cannot open {options.Queues}");
            // Held while the port lives: an xdpgate_xsk program found on an unclaimed interface is a crashed run's.
            claim = InterfaceLock.Acquire(link.Ifindex, name, "afxdp");
            program = XskRedirectProgram.Attach(route, link, options.Queues);
            var xsk = new XskOptions { FrameSize = options.FrameSize, RingSize = options.RingSize, FrameCount = options.RingSize * 2, Mode = mode, BusyPoll = options.BusyPoll };
            for (var queue = 0; queue < options.Queues; queue++)
            {
                var socket = XskSocket.Open(link.Ifindex, queue, xsk);
                queues.Add(new AfXdpQueue(socket));
                Linux.Bpf.BpfSyscall.XskMapSet(program.XskMap, (uint)queue, socket.Fd);
            }
            return new AfXdpPort(name, route, claim, link, program, [.. queues]);
        }
        catch
        {
            foreach (var queue in queues)
                queue.Dispose();
            program?.Dispose();
            claim?.Dispose();
            route.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            program.Dispose();
        }
        finally
        {
            foreach (var queue in queues)
                queue.Dispose();
            route.Dispose();
            claim.Dispose();
        }
    }

    public override string ToString() => $"afxdp:{Name} (ifindex {Ifindex}, {queues.Length} queue(s), {AttachMode}, {(ZeroCopy ? "zero-copy" : "copy")})";
}
