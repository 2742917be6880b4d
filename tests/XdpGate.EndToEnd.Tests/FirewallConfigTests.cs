using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Service;
using XdpGate.Testing.Net;
using Xunit;

namespace XdpGate.EndToEnd.Tests;

/// <summary>
/// The appliance run from a firewall config on an inline pair of AF_XDP ports (client → [west DUT east] → server,
/// namespaces the test made): allowed flows arrive, denied ones do not, rule counters match what was sent, and
/// 50 reloads under a steady stream lose nothing of a flow both configs allow. Needs root (skipped otherwise).
/// </summary>
public sealed class FirewallConfigTests : IDisposable
{
    private const ushort Allowed = 3000, Denied = 3001, Changing = 3002;
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-e2e-config-");

    public void Dispose() => temp.Delete(recursive: true);

    // Both configs pass sport 3000 and drop 3001 (the same rules, moved); A passes 3002 by default, B drops it.
    private static string Firewall(bool b) => b
        ? """
          firewall:
            default: pass
            rules:
              - name: changing
                action: drop
                protocol: udp
                sport: 3002
              - name: denied
                action: drop
                protocol: udp
                sport: 3001
              - name: allowed
                action: pass
                protocol: udp
                sport: 3000
          """
        : """
          firewall:
            default: pass
            rules:
              - name: allowed
                action: pass
                protocol: udp
                sport: 3000
              - name: denied
                action: drop
                protocol: udp
                sport: 3001
          """;

    private string WriteConfig(InlineTopology topology, bool b)
    {
        var path = Path.Combine(temp.FullName, "firewall.yaml");
        File.WriteAllText(path, $"""
            ports:
              - name: west
                driver: afxdp
                interface: {topology.West}
                pass: east
              - name: east
                driver: afxdp
                interface: {topology.East}
                pass: west
            workers: 1
            control:
              socket: {Path.Combine(temp.FullName, "control.sock")}
            {Firewall(b)}
            """);
        return path;
    }

    private static RunningAppliance Start(InlineTopology topology, string config)
    {
        // /sys/class/net shows the test's own namespace, not the DUT's: the DUT's interfaces are looked up there.
        var ifindexes = new[] { topology.West, topology.East }.ToDictionary(name => name,
            name => uint.Parse(VethPair.Exec(topology.Dut, $"cat /sys/class/net/{name}/ifindex").Trim(), CultureInfo.InvariantCulture));
        var options = new ApplianceOptions { Workers = new WorkerOptions { Pin = false }, WatchConfig = false, Interfaces = name => ifindexes.TryGetValue(name, out var i) ? i : null };
        return topology.InDut(() =>
        {
            var appliance = RunningAppliance.FromFile(config, options);
            appliance.Start();
            return appliance;
        });
    }

    [SkippableFact]
    public void Allowed_flows_cross_the_inline_pair_denied_ones_do_not_and_each_rule_counts_what_was_sent()
    {
        SkipUnlessRoot();
        using var topology = new InlineTopology();
        using var server = new TagCollector(topology.InServer(() => UdpListener(topology.ServerAddress)));
        using var appliance = Start(topology, WriteConfig(topology, b: false));
        using (var client = topology.InClient(() => new RawSocket(topology.ClientIfindex)))
        {
            for (var i = 0; i < 30; i++)
            {
                client.Send(Frame(topology, Allowed, (ulong)i));
                client.Send(Frame(topology, Denied, 1000 + (ulong)i));
            }
        }

        Assert.True(server.WaitFor(30, TimeSpan.FromSeconds(5)), $"{server.Count} of 30 allowed datagrams arrived");
        Thread.Sleep(200);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (ulong)i), server.Tags.Order());
        var rules = ((FirewallControl)appliance.Builtin!).Rules().ToDictionary(r => r.Name!, r => r.Packets);
        Assert.Equal(30UL, rules["allowed"]);
        Assert.Equal(30UL, rules["denied"]);
    }

    [SkippableFact]
    public void Fifty_reloads_under_a_steady_stream_over_real_interfaces_lose_no_allowed_datagram_and_leak_no_denied_one()
    {
        SkipUnlessRoot();
        using var topology = new InlineTopology();
        using var server = new TagCollector(topology.InServer(() => UdpListener(topology.ServerAddress)));
        var config = WriteConfig(topology, b: false);
        using var appliance = Start(topology, config);
        using var client = topology.InClient(() => new RawSocket(topology.ClientIfindex));
        using var stop = new CancellationTokenSource();
        // 3 frames (one per flow) every millisecond at most, for at most 20 s: a bounded, steady stream.
        var sent = 0;
        var sender = Task.Run(() =>
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (!stop.IsCancellationRequested && DateTime.UtcNow < deadline)
            {
                client.Send(Frame(topology, Allowed, (ulong)sent));
                client.Send(Frame(topology, Denied, 1_000_000 + (ulong)sent));
                client.Send(Frame(topology, Changing, 2_000_000 + (ulong)sent));
                sent++;
                Thread.Sleep(1);
            }
        });
        for (var i = 0; i < 50; i++)
        {
            File.WriteAllText(config, File.ReadAllText(WriteConfig(topology, b: i % 2 == 0)));
            Assert.Null(appliance.Reload());
            Assert.False(sender.IsCompleted, "the stream ended before the reloads did");
        }
        stop.Cancel();
        sender.Wait();

        Assert.True(server.WaitFor(sent, TimeSpan.FromSeconds(5), tag => tag < 1_000_000), "allowed datagrams are missing");
        Thread.Sleep(200);
        var tags = server.Tags;
        Assert.Equal(Enumerable.Range(0, sent).Select(i => (ulong)i), tags.Where(t => t < 1_000_000).Order());
        Assert.DoesNotContain(tags, t => t is >= 1_000_000 and < 2_000_000);
        Assert.InRange(tags.Count(t => t >= 2_000_000), 1, sent - 1);
        Assert.Equal(51, appliance.Version);
        var rules = ((FirewallControl)appliance.Builtin!).Rules().ToDictionary(r => r.Name!, r => r.Packets);
        Assert.Equal((ulong)sent, rules["allowed"]);
        Assert.Equal((ulong)sent, rules["denied"]);
    }

    private static byte[] Frame(InlineTopology topology, ushort sourcePort, ulong tag) =>
        TestFrames.Udp(topology.ServerMac, topology.ClientMac, topology.ClientAddress, topology.ServerAddress, sourcePort, tag);

    private static void SkipUnlessRoot()
    {
        var why = ApplianceFixture.WhyUnavailable();
        Skip.If(why is not null, why);
    }

    private static Socket UdpListener(string address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20 };
        socket.Bind(new IPEndPoint(IPAddress.Parse(address), 9));
        return socket;
    }

    /// <summary>Reads the tags of every datagram that reaches a socket, on its own thread, until disposed.</summary>
    private sealed class TagCollector : IDisposable
    {
        private readonly Socket socket;
        private readonly List<ulong> tags = [];
        private readonly Thread reader;
        private volatile bool stopping;

        public TagCollector(Socket socket)
        {
            this.socket = socket;
            reader = new Thread(Read) { IsBackground = true };
            reader.Start();
        }

        public List<ulong> Tags
        {
            get
            {
                lock (tags)
                    return [.. tags];
            }
        }

        public int Count => Tags.Count;

        public bool WaitFor(int count, TimeSpan timeout, Func<ulong, bool>? which = null)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (Tags.Count(which ?? (_ => true)) < count)
            {
                if (DateTime.UtcNow > deadline)
                    return false;
                Thread.Sleep(10);
            }
            return true;
        }

        private void Read()
        {
            var buffer = new byte[2048];
            while (!stopping)
            {
                if (!socket.Poll(TimeSpan.FromMilliseconds(50), SelectMode.SelectRead))
                    continue;
                var length = socket.Receive(buffer);
                if (length >= 8)
                {
                    lock (tags)
                        tags.Add(BinaryPrimitives.ReadUInt64BigEndian(buffer));
                }
            }
        }

        public void Dispose()
        {
            stopping = true;
            reader.Join();
            socket.Dispose();
        }
    }
}
