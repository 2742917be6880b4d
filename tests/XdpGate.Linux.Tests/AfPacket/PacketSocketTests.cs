using System.Diagnostics;
using System.Globalization;
using Xunit;
using XdpGate.Linux.AfPacket;
using XdpGate.Testing.Net;

namespace XdpGate.Linux.Tests.AfPacket;

/// <summary>The AF_PACKET rings on a veth pair between two namespaces: frames from a plain raw socket, to a plain raw socket.</summary>
public sealed class PacketSocketTests
{
    private const int Frames = 200;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    [SkippableFact]
    public void The_rx_ring_receives_every_frame_the_peer_sends_in_place_with_headroom_even_to_a_foreign_mac()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var socket = pair.InA(() => PacketSocket.Open(pair.IfindexA, new PacketSocketOptions { TxFrameCount = 0 }));
        using var peer = pair.InB(() => new RawSocket(pair.IfindexB));
        // PACKET_MR_PROMISC raised the device's promiscuity; veth hands other hosts' frames to packet sockets anyway,
        // so the flag is what shows the membership took effect.
        Assert.True(Promiscuous(pair), "IFF_PROMISC is not set while the socket is open");

        var sent = new HashSet<ulong>();
        for (var i = 0; i < Frames; i++)
        {
            var tag = 0x5a00_0000UL + (ulong)i;
            var destination = i % 2 == 0 ? pair.MacA : TestFrames.ForeignMac;
            peer.Send(TestFrames.Udp(destination, pair.MacB, pair.AddressB, pair.AddressA, 4000, tag, 60 + i % 200));
            sent.Add(tag);
        }

        var received = Drain(socket.Rx!, Frames, frame =>
        {
            Assert.True(frame.Headroom >= 256, $"only {frame.Headroom} bytes of headroom");
            Assert.Equal(frame.Length, frame.WireLength);
            Assert.InRange(frame.Tailroom, 0, 1 << 20);
        });
        Assert.Equal(sent.Order(), received.Where(sent.Contains).Order());
        Assert.Equal(0u, socket.ReadStatistics().tp_drops);
        socket.Dispose();
        Assert.False(Promiscuous(pair), "IFF_PROMISC stayed set after the socket closed");
    }

    [SkippableFact]
    public void The_tx_ring_sends_frames_that_the_peer_receives_intact()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var socket = pair.InA(() => PacketSocket.Open(pair.IfindexA, new PacketSocketOptions { RxBlockCount = 0, TxFrameCount = 64 }));
        using var peer = pair.InB(() => new RawSocket(pair.IfindexB));

        var frames = Enumerable.Range(0, Frames)
            .Select(i => TestFrames.Udp(pair.MacB, pair.MacA, pair.AddressA, pair.AddressB, 5000, 0x7700_0000UL + (ulong)i, 60 + i * 7 % 1400))
            .ToList();
        var clock = Stopwatch.StartNew();
        var next = 0;
        while (next < frames.Count && clock.Elapsed < Patience)
        {
            while (next < frames.Count && socket.Tx!.TryEnqueue(frames[next]))
                next++;
            Assert.NotEqual(PacketTxKick.Failed, socket.Tx!.Kick());
        }
        Assert.Equal(frames.Count, next);

        var arrived = peer.Receive(frames.Count, Patience, frame => TestFrames.Tag(frame) is >= 0x7700_0000UL and < 0x7800_0000UL);
        Assert.Equal(frames.Count, arrived.Count);
        Assert.All(arrived, frame => Assert.Equal(frames[(int)(TestFrames.Tag(frame)!.Value - 0x7700_0000UL)], frame));
        Assert.Equal(0, socket.Tx!.WrongFormat);
    }

    [SkippableFact]
    public void A_hash_fanout_group_spreads_flows_over_two_sockets_and_delivers_each_frame_once()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        var group = (ushort)Random.Shared.Next(1, 0xffff);
        // Enough blocks that the 2 ms block timeout cannot use them all up while the test reads the other socket.
        var options = new PacketSocketOptions { TxFrameCount = 0, RxBlockCount = 64, RxBlockSize = 1 << 16, FanoutGroup = group };
        using var first = pair.InA(() => PacketSocket.Open(pair.IfindexA, options));
        using var second = pair.InA(() => PacketSocket.Open(pair.IfindexA, options));
        using var peer = pair.InB(() => new RawSocket(pair.IfindexB));

        for (var i = 0; i < Frames; i++)
            peer.Send(TestFrames.Udp(pair.MacA, pair.MacB, pair.AddressB, pair.AddressA, (ushort)(1024 + i), 0x6600_0000UL + (ulong)i));

        var clock = Stopwatch.StartNew();
        var fromFirst = new List<ulong>();
        var fromSecond = new List<ulong>();
        while (fromFirst.Count + fromSecond.Count < Frames && clock.Elapsed < Patience)
        {
            fromFirst.AddRange(Drain(first.Rx!, Frames, _ => { }, TimeSpan.FromMilliseconds(20)));
            fromSecond.AddRange(Drain(second.Rx!, Frames, _ => { }, TimeSpan.FromMilliseconds(20)));
        }
        var ours = fromFirst.Concat(fromSecond).Where(t => t >= 0x6600_0000UL && t < 0x6700_0000UL).ToList();
        Assert.True(Frames == ours.Count, $"{ours.Count} of {Frames} frames arrived; ring drops {first.ReadStatistics().tp_drops} + {second.ReadStatistics().tp_drops}");
        Assert.Equal(Frames, ours.Distinct().Count());
        Assert.True(fromFirst.Count > Frames / 10 && fromSecond.Count > Frames / 10,
            $"200 flows split {fromFirst.Count} / {fromSecond.Count}: the hash did not spread them");
    }

    [Fact]
    public void Options_that_the_kernel_would_refuse_are_refused_with_the_option_named()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PacketSocket.Open(1, new PacketSocketOptions { RxBlockSize = 5000 }));
        Assert.Contains("RxBlockSize", e.Message, StringComparison.Ordinal);
        var none = Assert.Throws<ArgumentException>(() => PacketSocket.Open(1, new PacketSocketOptions { RxBlockCount = 0, TxFrameCount = 0 }));
        Assert.Contains("RX ring, a TX ring or both", none.Message, StringComparison.Ordinal);
    }

    /// <summary>Tags of the test frames taken off the ring (other frames are skipped), until <paramref name="count"/> or the time is up.</summary>
    private static unsafe List<ulong> Drain(PacketRxRing ring, int count, Action<PacketRxFrame> check, TimeSpan? within = null)
    {
        var tags = new List<ulong>();
        var clock = Stopwatch.StartNew();
        var limit = within ?? Patience;
        while (tags.Count < count && clock.Elapsed < limit)
        {
            var any = false;
            while (ring.TryNext(out var frame))
            {
                any = true;
                if (TestFrames.Tag(new ReadOnlySpan<byte>(frame.Data, frame.Length)) is { } tag)
                {
                    check(frame);
                    tags.Add(tag);
                }
            }
            ring.ReleaseConsumed();
            if (!any)
                Thread.Sleep(1);
        }
        return tags;
    }

    private static bool Promiscuous(VethPair pair)
    {
        const int IFF_PROMISC = 0x100;
        var flags = Convert.ToInt32(VethPair.Exec(pair.NamespaceA, $"cat /sys/class/net/{pair.InterfaceA}/flags").Trim(), 16);
        return (flags & IFF_PROMISC) != 0;
    }
}
