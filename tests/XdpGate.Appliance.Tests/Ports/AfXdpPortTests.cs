using Xunit;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.AfXdp;
using XdpGate.Bpf.Xdp;
using XdpGate.Linux.Bpf;
using XdpGate.Linux.Netlink;
using XdpGate.Testing.Net;
using XdpGate.Uapi;

namespace XdpGate.Appliance.Tests.Ports;

/// <summary>The AF_XDP port on a veth pair (copy mode, native XDP redirect program) between two namespaces the test made.</summary>
public sealed class AfXdpPortTests
{
    private const int Frames = 200;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private static string? WhyUnavailable() => VethPair.WhyUnavailable() ?? BpfSyscall.WhyUnavailable();

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public unsafe void Frames_redirected_into_the_socket_are_seen_in_place_with_headroom_and_sent_back_to_the_peer(bool busyPoll)
    {
        var why = WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var peer = pair.InB(() => new RawSocket(pair.IfindexB));
        var port = pair.InA(() => AfXdpPort.Open(pair.InterfaceA, new PortOptions { RingSize = 512, BusyPoll = busyPoll }));
        try
        {
            Assert.Equal(XdpAttachMode.Driver, port.AttachMode);
            Assert.False(port.ZeroCopy, "veth has no zero-copy AF_XDP; the kernel should have fallen back to copy mode");
            for (var i = 0; i < Frames; i++)
                peer.Send(TestFrames.Udp(pair.MacA, pair.MacB, pair.AddressB, pair.AddressA, (ushort)(2000 + i), 0x4400_0000UL + (ulong)i, 60 + i));

            var seen = PortTraffic.Serve(port.Queues[0], Frames, Patience, frame =>
            {
                Assert.True(frame.Data - frame.Xdp.HardStart >= XdpLayout.XDP_PACKET_HEADROOM, $"headroom {frame.Data - frame.Xdp.HardStart}");
                Assert.Equal((uint)XdpLayout.FrameSize, frame.Xdp.FrameSize);
                // XDP_TX in place: swap the MACs so the frame goes back to the peer.
                var packet = new Span<byte>(frame.Data, frame.Length);
                Span<byte> mac = stackalloc byte[6];
                packet[..6].CopyTo(mac);
                packet[6..12].CopyTo(packet);
                mac.CopyTo(packet[6..12]);
                return true;
            });
            Assert.Equal(Enumerable.Range(0, Frames).Select(i => 0x4400_0000UL + (ulong)i), seen.Order());

            var back = peer.Receive(Frames, Patience, frame => TestFrames.Tag(frame) is >= 0x4400_0000UL and < 0x4500_0000UL
                && frame.AsSpan(0, 6).SequenceEqual(pair.MacB));
            Assert.Equal(Frames, back.Count);
            Assert.Equal(0ul, port.Queues[0].ReadRingStatistics().RxDropped);
        }
        finally
        {
            port.Dispose();
        }
        using var route = pair.InA(() => new RouteSocket());
        Assert.Equal(XdpAttachMode.None, Links.Get(route, pair.InterfaceA).XdpMode);
    }

    [SkippableFact]
    public void A_redirect_program_left_by_a_crashed_run_is_replaced_and_then_detached()
    {
        var why = WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var route = pair.InA(() => new RouteSocket());
        // A crashed run: the program is attached and every descriptor of it is gone.
        using (var map = BpfSyscall.XskMapCreate(1, "xdpgate_xsks"))
        using (var leftover = BpfSyscall.ProgLoad(bpf_defines.BPF_PROG_TYPE_XDP,
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(XskRedirectProgram.Instructions(map.Fd).AsSpan()), name: XskRedirectProgram.ProgramName))
        {
            Links.AttachXdp(route, pair.IfindexA, leftover.Fd);
        }
        var leftoverId = Links.Get(route, pair.IfindexA).XdpProgId;
        Assert.NotEqual(0u, leftoverId);

        using (var port = pair.InA(() => AfXdpPort.Open(pair.InterfaceA, new PortOptions { RingSize = 64 })))
        {
            var now = Links.Get(route, pair.IfindexA).XdpProgId;
            Assert.NotEqual(0u, now);
            Assert.NotEqual(leftoverId, now);
        }
        Assert.Equal(XdpAttachMode.None, Links.Get(route, pair.IfindexA).XdpMode);
    }

    [SkippableFact]
    public void A_second_port_on_a_claimed_interface_is_refused_and_leaves_the_live_runs_program_alone()
    {
        var why = WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var route = pair.InA(() => new RouteSocket());
        using var first = pair.InA(() => AfXdpPort.Open(pair.InterfaceA, new PortOptions { RingSize = 64 }));
        var live = Links.Get(route, pair.IfindexA).XdpProgId;

        var e = Assert.Throws<InvalidOperationException>(() => pair.InA(() => AfXdpPort.Open(pair.InterfaceA, new PortOptions { RingSize = 64 })));
        Assert.Contains(pair.InterfaceA, e.Message, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId}", e.Message, StringComparison.Ordinal);
        Assert.Equal(live, Links.Get(route, pair.IfindexA).XdpProgId);
    }

    [SkippableFact]
    public void Someone_elses_xdp_program_is_left_alone_and_named_in_the_refusal()
    {
        var why = WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var route = pair.InA(() => new RouteSocket());
        using var foreign = BpfSyscall.ProgLoad(bpf_defines.BPF_PROG_TYPE_XDP, [0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0], name: "not_ours");
        Links.AttachXdp(route, pair.IfindexA, foreign.Fd);

        var e = Assert.Throws<InvalidOperationException>(() => pair.InA(() => AfXdpPort.Open(pair.InterfaceA, new PortOptions { RingSize = 64 })));
        Assert.Contains("not_ours", e.Message, StringComparison.Ordinal);
        Assert.Equal(BpfSyscall.ProgInfo(foreign).Id, Links.Get(route, pair.IfindexA).XdpProgId);
    }

    [SkippableFact]
    public void Receiving_transmitting_and_flushing_allocate_nothing()
    {
        var why = WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var peer = pair.InB(() => new RawSocket(pair.IfindexB));
        using var port = pair.InA(() => AfXdpPort.Open(pair.InterfaceA, new PortOptions { RingSize = 64 }));
        Assert.Equal(0, PortTraffic.BounceAllocations(pair, peer, port.Queues[0]));
    }

    [SkippableFact]
    public void Each_queue_gets_its_own_socket_and_the_frames_that_arrive_on_that_queue()
    {
        var why = WhyUnavailable();
        Skip.If(why is not null, why);
        Skip.If(Environment.ProcessorCount < 2, "needs two CPUs to send on two veth queues");
        using var pair = new VethPair(queues: 2);
        using var peer = pair.InB(() => new RawSocket(pair.IfindexB));
        using var port = pair.InA(() => AfXdpPort.Open(pair.InterfaceA, new PortOptions { Queues = 2, RingSize = 256 }));
        Assert.Equal([0, 1], port.Queues.Select(q => q.QueueIndex));
        // XPS: the peer sends from CPU k on its TX queue k, and veth delivers on the RX queue of the same number.
        for (var queue = 0; queue < 2; queue++)
            VethPair.Exec(pair.NamespaceB, $"sh -c \"echo {1 << queue} > /sys/class/net/{pair.InterfaceB}/queues/tx-{queue}/xps_cpus\"");
        for (var cpu = 0; cpu < 2; cpu++)
        {
            var on = cpu;
            var sender = new Thread(() =>
            {
                Linux.Threading.CpuAffinity.PinCurrentThread(on);
                for (var i = 0; i < 50; i++)
                    peer.Send(TestFrames.Udp(pair.MacA, pair.MacB, pair.AddressB, pair.AddressA, 9, (ulong)(on * 65536 + i)));
            });
            sender.Start();
            sender.Join();
        }
        for (var queue = 0; queue < 2; queue++)
        {
            var seen = PortTraffic.Serve(port.Queues[queue], 50, Patience, _ => false);
            Assert.Equal(Enumerable.Range(0, 50).Select(i => (ulong)(queue * 65536 + i)), seen.Order());
        }
    }

    [SkippableFact]
    public void More_queues_than_the_interface_has_are_refused_naming_the_interface()
    {
        var why = WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => pair.InA(() => AfXdpPort.Open(pair.InterfaceA, new PortOptions { Queues = 64 })));
        Assert.Contains(pair.InterfaceA, e.Message, StringComparison.Ordinal);
    }
}
