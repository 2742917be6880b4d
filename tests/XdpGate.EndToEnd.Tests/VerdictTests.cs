using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using XdpGate.Bpf.Xdp;
using XdpGate.Testing.Net;
using Xunit;

namespace XdpGate.EndToEnd.Tests;

/// <summary>
/// Every verdict on the wire, for both drivers: client → [west DUT east] → server in namespaces the test made,
/// frames from the client's raw socket, witnesses in the client, the server and the DUT's own host stack.
/// Needs root (skipped otherwise).
/// </summary>
public sealed class VerdictTests
{
    private const int Frames = 20;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    public static TheoryData<string> Drivers() => ["afxdp", "afpacket"];

    [SkippableTheory]
    [MemberData(nameof(Drivers))]
    public void Dropped_frames_never_reach_the_server(string driver)
    {
        SkipUnlessRoot();
        using var topology = new InlineTopology();
        using var server = topology.InServer(() => UdpListener(topology.ServerAddress));
        using var appliance = new ApplianceFixture(topology, driver, Programs.Returning((int)xdp_action.XDP_DROP), pass: topology.East);
        SendToServer(topology, tagBase: 0x1100);

        Assert.Empty(Receive(server, Frames, TimeSpan.FromSeconds(1)));
        Assert.True(appliance.Stop().Stats.Ports[0].Total.Count(xdp_action.XDP_DROP) >= Frames);
    }

    [SkippableTheory]
    [MemberData(nameof(Drivers))]
    public void Passed_frames_of_an_inline_pair_leave_by_the_peer_port_and_reach_the_server(string driver)
    {
        SkipUnlessRoot();
        using var topology = new InlineTopology();
        using var server = topology.InServer(() => UdpListener(topology.ServerAddress));
        using var appliance = new ApplianceFixture(topology, driver, Programs.Returning((int)xdp_action.XDP_PASS), pass: topology.East);
        SendToServer(topology, tagBase: 0x2200);

        Assert.Equal(Tags(0x2200), Receive(server, Frames, Patience).Order());
    }

    [SkippableTheory]
    [MemberData(nameof(Drivers))]
    public void Dropped_frames_never_reach_a_socket_of_the_DUTs_own_host_stack(string driver)
    {
        // AF_PACKET only copies frames, so this holds only because its port takes them from the host stack.
        SkipUnlessRoot();
        using var topology = new InlineTopology();
        using var local = topology.InDut(() => UdpListener(topology.WestAddress));
        using var appliance = new ApplianceFixture(topology, driver, Programs.Returning((int)xdp_action.XDP_DROP));
        SendToDut(topology, tagBase: 0x3300);

        Assert.Empty(Receive(local, Frames, TimeSpan.FromSeconds(1)));
        Assert.True(appliance.Stop().Stats.Ports[0].Total.Count(xdp_action.XDP_DROP) >= Frames);
    }

    [SkippableTheory]
    [MemberData(nameof(Drivers))]
    public void Passed_frames_reach_a_socket_of_the_DUTs_host_stack_once_through_the_TAP(string driver)
    {
        SkipUnlessRoot();
        using var topology = new InlineTopology();
        using var local = topology.InDut(() => UdpListener(topology.WestAddress));
        using var appliance = new ApplianceFixture(topology, driver, Programs.Returning((int)xdp_action.XDP_PASS));
        SendToDut(topology, tagBase: 0x3400);

        // Twice as many asked for as sent: a frame the host also took straight from the port would show up again.
        Assert.Equal(Tags(0x3400), Receive(local, 2 * Frames, TimeSpan.FromSeconds(2)).Order());
        Assert.True(appliance.Stop().Stats.Ports[0].Total.Count(xdp_action.XDP_PASS) >= Frames);
    }

    [SkippableTheory]
    [MemberData(nameof(Drivers))]
    public void Transmitted_frames_come_back_to_the_client_with_the_programs_rewrite(string driver)
    {
        SkipUnlessRoot();
        using var topology = new InlineTopology();
        using var client = topology.InClient(() => new RawSocket(topology.ClientIfindex));
        using var appliance = new ApplianceFixture(topology, driver, Programs.SwapMacsAndBounce());
        for (var i = 0; i < Frames; i++)
            client.Send(TestFrames.Udp(topology.WestMac, topology.ClientMac, topology.ClientAddress, topology.ServerAddress, 3000, 0x4400UL + (ulong)i));

        var back = client.Receive(Frames, Patience, frame => TestFrames.Tag(frame) is >= 0x4400 and < 0x4500 && frame.AsSpan(0, 6).SequenceEqual(topology.ClientMac));
        Assert.Equal(Tags(0x4400), back.Select(f => TestFrames.Tag(f)!.Value).Order());
        Assert.All(back, frame => Assert.Equal(topology.WestMac, frame[6..12]));
    }

    [SkippableTheory]
    [MemberData(nameof(Drivers))]
    public void Redirected_frames_leave_by_the_other_port_and_reach_the_server(string driver)
    {
        SkipUnlessRoot();
        using var topology = new InlineTopology();
        using var server = topology.InServer(() => UdpListener(topology.ServerAddress));
        using var appliance = new ApplianceFixture(topology, driver, Programs.RewriteAndRedirect(topology.ServerMac, topology.EastIfindex));
        using (var client = topology.InClient(() => new RawSocket(topology.ClientIfindex)))
        {
            // Addressed to the DUT's MAC: only the program's rewrite makes them the server's.
            for (var i = 0; i < Frames; i++)
                client.Send(TestFrames.Udp(topology.WestMac, topology.ClientMac, topology.ClientAddress, topology.ServerAddress, 3000, 0x5500UL + (ulong)i));
        }

        Assert.Equal(Tags(0x5500), Receive(server, Frames, Patience).Order());
        var stats = appliance.Stop().Stats;
        Assert.True(stats.Ports[0].Total.Count(xdp_action.XDP_REDIRECT) >= Frames);
        Assert.True(stats.Ports[1].Total.TxPackets >= Frames);
    }

    [SkippableTheory]
    [MemberData(nameof(Drivers))]
    public void Frames_encapsulated_with_adjust_head_arrive_wrapped_byte_for_byte(string driver)
    {
        SkipUnlessRoot();
        using var topology = new InlineTopology();
        using var client = topology.InClient(() => new RawSocket(topology.ClientIfindex));
        using var appliance = new ApplianceFixture(topology, driver, Programs.EncapsulateAndBounce());
        var sent = Enumerable.Range(0, Frames)
            .Select(i => TestFrames.Udp(topology.WestMac, topology.ClientMac, topology.ClientAddress, topology.ServerAddress, 3000, 0x6600UL + (ulong)i))
            .ToList();
        foreach (var frame in sent)
            client.Send(frame);

        var back = client.Receive(Frames, Patience, frame => frame.Length > 14 && BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == 0x88b5);
        Assert.Equal(Frames, back.Count);
        var expected = sent.Select(frame => Convert.ToHexString([.. topology.ClientMac, .. topology.WestMac, 0x88, 0xb5, .. frame])).Order();
        Assert.Equal(expected, back.Select(Convert.ToHexString).Order());
    }

    [SkippableTheory]
    [MemberData(nameof(Drivers))]
    public void Frames_to_another_MAC_are_seen_too(string driver)
    {
        SkipUnlessRoot();
        using var topology = new InlineTopology();
        using var appliance = new ApplianceFixture(topology, driver, Programs.Returning((int)xdp_action.XDP_DROP));
        using (var client = topology.InClient(() => new RawSocket(topology.ClientIfindex)))
        {
            for (var i = 0; i < Frames; i++)
                client.Send(TestFrames.Udp(TestFrames.ForeignMac, topology.ClientMac, topology.ClientAddress, topology.ServerAddress, 3000, 0x7700UL + (ulong)i));
        }
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline && Drops(appliance) < Frames)
            Thread.Sleep(50);
        if (driver == "afpacket")
        {
            // AF_PACKET sees only what the device accepts: the port must have put it in promiscuous mode (IFF_PROMISC).
            var flags = Convert.ToInt32(VethPair.Exec(topology.Dut, $"cat /sys/class/net/{topology.West}/flags").Trim(), 16);
            Assert.True((flags & 0x100) != 0, $"{topology.West} is not promiscuous (flags 0x{flags:x})");
        }
        Assert.True(appliance.Stop().Stats.Ports[0].Total.Count(xdp_action.XDP_DROP) >= Frames);
    }

    private static long Drops(ApplianceFixture appliance) => appliance.Snapshot().Ports[0].Total.Count(xdp_action.XDP_DROP);

    private static void SkipUnlessRoot()
    {
        var why = ApplianceFixture.WhyUnavailable();
        Skip.If(why is not null, why);
    }

    private static IEnumerable<ulong> Tags(ulong first) => Enumerable.Range(0, Frames).Select(i => first + (ulong)i);

    /// <summary>Client → server frames, addressed to the server's MAC as across a bridge.</summary>
    private static void SendToServer(InlineTopology topology, ulong tagBase)
    {
        using var client = topology.InClient(() => new RawSocket(topology.ClientIfindex));
        for (var i = 0; i < Frames; i++)
            client.Send(TestFrames.Udp(topology.ServerMac, topology.ClientMac, topology.ClientAddress, topology.ServerAddress, 3000, tagBase + (ulong)i));
    }

    /// <summary>Client → the DUT's own address on its west port.</summary>
    private static void SendToDut(InlineTopology topology, ulong tagBase)
    {
        using var client = topology.InClient(() => new RawSocket(topology.ClientIfindex));
        for (var i = 0; i < Frames; i++)
            client.Send(TestFrames.Udp(topology.WestMac, topology.ClientMac, topology.ClientAddress, topology.WestAddress, 3000, tagBase + (ulong)i));
    }

    private static Socket UdpListener(string address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(address), 9));
        return socket;
    }

    /// <summary>The tags of up to <paramref name="count"/> datagrams that arrive within <paramref name="timeout"/>.</summary>
    private static List<ulong> Receive(Socket socket, int count, TimeSpan timeout)
    {
        var tags = new List<ulong>();
        var buffer = new byte[2048];
        var deadline = DateTime.UtcNow + timeout;
        while (tags.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !socket.Poll(left, SelectMode.SelectRead))
                break;
            var length = socket.Receive(buffer);
            if (length >= 8)
                tags.Add(BinaryPrimitives.ReadUInt64BigEndian(buffer));
        }
        return tags;
    }
}
