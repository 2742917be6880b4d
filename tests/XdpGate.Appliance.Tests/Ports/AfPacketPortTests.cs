using System.Net;
using System.Net.Sockets;
using Xunit;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.AfPacket;
using XdpGate.Bpf.Xdp;
using XdpGate.Testing.Net;

namespace XdpGate.Appliance.Tests.Ports;

/// <summary>The AF_PACKET port on a veth pair between two namespaces the test made.</summary>
public sealed class AfPacketPortTests
{
    private const int Frames = 200;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    [SkippableFact]
    public unsafe void Frames_are_seen_in_place_with_headroom_and_sent_back_to_the_peer()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var peer = pair.InB(() => new RawSocket(pair.IfindexB));
        using var port = pair.InA(() => AfPacketPort.Open(pair.InterfaceA, new PortOptions { RingSize = 256 }));
        for (var i = 0; i < Frames; i++)
            peer.Send(TestFrames.Udp(pair.MacA, pair.MacB, pair.AddressB, pair.AddressA, (ushort)(3000 + i), 0x3300_0000UL + (ulong)i, 60 + i));

        var seen = PortTraffic.Serve(port.Queues[0], Frames, Patience, frame =>
        {
            Assert.True(frame.Data - frame.Xdp.HardStart >= XdpLayout.XDP_PACKET_HEADROOM, $"headroom {frame.Data - frame.Xdp.HardStart}");
            Assert.True(frame.Xdp.FrameSize >= frame.Data - frame.Xdp.HardStart + frame.Length + XdpLayout.SkbSharedInfoSize, $"frame_sz {frame.Xdp.FrameSize}");
            var packet = new Span<byte>(frame.Data, frame.Length);
            pair.MacB.CopyTo(packet);
            pair.MacA.CopyTo(packet[6..]);
            return true;
        });
        Assert.Equal(Enumerable.Range(0, Frames).Select(i => 0x3300_0000UL + (ulong)i), seen.Order());

        var back = peer.Receive(Frames, Patience, frame => TestFrames.Tag(frame) is >= 0x3300_0000UL and < 0x3400_0000UL
            && frame.AsSpan(0, 6).SequenceEqual(pair.MacB));
        Assert.Equal(Frames, back.Count);
        Assert.Equal(0ul, port.Queues[0].ReadRingStatistics().RxDropped);
    }

    [SkippableFact]
    public void Two_queues_share_the_interfaces_flows_through_the_fanout_group_each_frame_once()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var peer = pair.InB(() => new RawSocket(pair.IfindexB));
        using var port = pair.InA(() => AfPacketPort.Open(pair.InterfaceA, new PortOptions { Queues = 2, RingSize = 256 }));
        for (var i = 0; i < Frames; i++)
            peer.Send(TestFrames.Udp(pair.MacA, pair.MacB, pair.AddressB, pair.AddressA, (ushort)(20000 + i), 0x2200_0000UL + (ulong)i));

        var perQueue = new List<ulong>[] { [], [] };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (perQueue.Sum(q => q.Count) < Frames && clock.Elapsed < Patience)
        {
            for (var queue = 0; queue < 2; queue++)
                perQueue[queue].AddRange(PortTraffic.Serve(port.Queues[queue], Frames, TimeSpan.FromMilliseconds(20), _ => false));
        }
        var all = perQueue.SelectMany(q => q).Where(t => t >= 0x2200_0000UL && t < 0x2300_0000UL).ToList();
        Assert.Equal(Frames, all.Count);
        Assert.Equal(Frames, all.Distinct().Count());
        Assert.True(perQueue.All(q => q.Count > Frames / 10), $"{Frames} flows split {perQueue[0].Count} / {perQueue[1].Count}");
    }

    [SkippableFact]
    public void A_frame_longer_than_a_tx_slot_is_refused_as_too_large()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var port = pair.InA(() => AfPacketPort.Open(pair.InterfaceA, new PortOptions { RingSize = 16 }));
        Assert.Equal(TxStatus.TooLarge, port.Queues[0].TransmitCopy(new byte[8192]));
    }

    [SkippableFact]
    public void Receiving_transmitting_and_flushing_allocate_nothing()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var peer = pair.InB(() => new RawSocket(pair.IfindexB));
        using var port = pair.InA(() => AfPacketPort.Open(pair.InterfaceA, new PortOptions { RingSize = 64 }));
        Assert.Equal(0, PortTraffic.BounceAllocations(pair, peer, port.Queues[0]));
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_port_keeps_its_frames_from_the_host_stack_when_asked_and_until_it_closes(bool takeFromHost)
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var peer = pair.InB(() => new RawSocket(pair.IfindexB));
        using var local = pair.InA(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        local.Bind(new IPEndPoint(IPAddress.Parse(pair.AddressA), 9));
        var frame = TestFrames.Udp(pair.MacA, pair.MacB, pair.AddressB, pair.AddressA, 3000, 0x4400);
        using (var port = pair.InA(() => AfPacketPort.Open(pair.InterfaceA, new PortOptions { RingSize = 64 }, takeFromHost)))
        {
            Assert.Equal(takeFromHost, port.HostSeesFramesBecause is null);
            peer.Send(frame);
            Assert.Equal([0x4400UL], PortTraffic.Serve(port.Queues[0], 1, Patience, _ => false));
            Assert.Equal(!takeFromHost, local.Poll(TimeSpan.FromMilliseconds(300), SelectMode.SelectRead));
            if (!takeFromHost)
                local.Receive(new byte[2048]);
        }

        peer.Send(frame);
        Assert.True(local.Poll(Patience, SelectMode.SelectRead), "the host stack did not get its frames after the port closed");
    }
}
