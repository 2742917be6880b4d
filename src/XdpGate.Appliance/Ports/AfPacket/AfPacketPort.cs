using XdpGate.Bpf.Xdp;
using XdpGate.Linux.AfPacket;
using XdpGate.Linux.Netlink;

namespace XdpGate.Appliance.Ports.AfPacket;

/// <summary>
/// An interface driven through AF_PACKET: one socket per worker, all in one PACKET_FANOUT hash group so each flow
/// stays on one worker, promiscuous, ignoring the frames this host sends, TX bypassing the qdisc. Nothing is attached
/// to the interface, so nothing outlives the process. Opened in the calling thread's network namespace.
/// </summary>
public sealed class AfPacketPort : IPort
{
    private readonly AfPacketQueue[] queues;

    private AfPacketPort(string name, int ifindex, AfPacketQueue[] queues)
    {
        Name = name;
        Ifindex = ifindex;
        this.queues = queues;
    }

    public string Name { get; }
    public int Ifindex { get; }
    public IReadOnlyList<IPortQueue> Queues => queues;

    public static AfPacketPort Open(string name, PortOptions options)
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
        try
        {
            for (var queue = 0; queue < options.Queues; queue++)
                queues.Add(new AfPacketQueue(PacketSocket.Open(link.Ifindex, socketOptions), queue));
            return new AfPacketPort(name, link.Ifindex, [.. queues]);
        }
        catch
        {
            foreach (var queue in queues)
                queue.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var queue in queues)
            queue.Dispose();
    }

    public override string ToString() => $"afpacket:{Name} (ifindex {Ifindex}, {queues.Length} queue(s))";
}

/// <summary>`--driver afpacket`.</summary>
public sealed class AfPacketDriver : IPortDriver
{
    public string Name => "afpacket";

    public IPort Open(string name, PortOptions options) => AfPacketPort.Open(name, options);
}
