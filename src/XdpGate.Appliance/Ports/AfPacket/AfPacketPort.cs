using XdpGate.Bpf.Xdp;
using XdpGate.Linux.AfPacket;
using XdpGate.Linux.Netlink;

namespace XdpGate.Appliance.Ports.AfPacket;

/// <summary>
/// An interface driven through AF_PACKET: one socket per worker, all in one PACKET_FANOUT hash group so each flow
/// stays on one worker, promiscuous, ignoring the frames this host sends, TX bypassing the qdisc. An appliance port
/// takes its frames from the host stack (<see cref="IngressDrop"/>, a bpf link that ends with the process, so nothing
/// outlives it); a generator's port leaves the host its traffic. Opened in the calling thread's network namespace.
/// </summary>
public sealed class AfPacketPort : IPort
{
    private readonly AfPacketQueue[] queues;
    private readonly IngressDrop? ingressDrop;

    private AfPacketPort(string name, int ifindex, AfPacketQueue[] queues, IngressDrop? ingressDrop, string? hostSeesFramesBecause)
    {
        Name = name;
        Ifindex = ifindex;
        this.queues = queues;
        this.ingressDrop = ingressDrop;
        HostSeesFramesBecause = hostSeesFramesBecause;
    }

    public string Name { get; }
    public int Ifindex { get; }
    public IReadOnlyList<IPortQueue> Queues => queues;

    /// <summary>Why the host stack still receives every frame of the port as well (no tcx in this kernel, or not asked), or null.</summary>
    public string? HostSeesFramesBecause { get; }

    /// <summary>Opens <paramref name="name"/>; <paramref name="takeFromHost"/> false leaves the host stack its frames (a generator's port).</summary>
    public static AfPacketPort Open(string name, PortOptions options, bool takeFromHost = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        LinkInfo link;
        using (var route = new RouteSocket())
            link = Links.Get(route, name);
        var page = Environment.SystemPageSize;
        var blockSize = 1 << 20;
        var socketOptions = new PacketSocketOptions
        {
            RxBlockSize = blockSize,
            // Room for RingSize full frames, at least 4 blocks so the kernel fills one while user space reads others.
            RxBlockCount = Math.Max(4, (int)((long)options.RingSize * options.FrameSize / blockSize)),
            Headroom = XdpLayout.XDP_PACKET_HEADROOM,
            TxFrameCount = options.RingSize,
            TxFrameSize = Math.Min(page, options.FrameSize),
            // The group id is per network namespace: this process and interface make it unlikely to meet another's.
            FanoutGroup = options.Queues > 1 ? (ushort)((Environment.ProcessId * 31 + link.Ifindex) & 0xffff) : null,
        };
        var queues = new List<AfPacketQueue>();
        IngressDrop? ingressDrop = null;
        try
        {
            // The sockets first: frames that arrive before they exist must still reach the host, not vanish.
            for (var queue = 0; queue < options.Queues; queue++)
                queues.Add(new AfPacketQueue(PacketSocket.Open(link.Ifindex, socketOptions), queue));
            string? hostSeesFramesBecause = "not asked to take them";
            if (takeFromHost)
                ingressDrop = IngressDrop.AttachIfSupported(link.Ifindex, out hostSeesFramesBecause);
            return new AfPacketPort(name, link.Ifindex, [.. queues], ingressDrop, hostSeesFramesBecause);
        }
        catch
        {
            ingressDrop?.Dispose();
            foreach (var queue in queues)
                queue.Dispose();
            throw;
        }
    }

    /// <summary>The warning a run prints for <paramref name="port"/> when it is an AF_PACKET port the host stack still receives from, or null.</summary>
    public static string? HostStackWarning(IPort port) => port is AfPacketPort { HostSeesFramesBecause: { } why } afpacket
        ? $"{afpacket.Name}: the host stack receives every frame as well, whatever the verdict ({why})"
        : null;

    public void Dispose()
    {
        // Back to the host before the sockets close, so no frame in between is lost to both.
        ingressDrop?.Dispose();
        foreach (var queue in queues)
            queue.Dispose();
    }

    public override string ToString() =>
        $"afpacket:{Name} (ifindex {Ifindex}, {queues.Length} queue(s), {(HostSeesFramesBecause is null ? "taken from the host stack" : "the host stack sees every frame too: " + HostSeesFramesBecause)})";
}
