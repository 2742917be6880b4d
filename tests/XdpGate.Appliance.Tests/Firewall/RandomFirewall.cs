using XdpGate.Appliance.Builtins.Firewall;
using static XdpGate.Appliance.Tests.Firewall.FirewallPackets;

namespace XdpGate.Appliance.Tests.Firewall;

/// <summary>
/// Random rule sets and packets drawn from small pools of nested prefixes, ports and VLANs, so that rules overlap,
/// shadow each other and match often; a share of packets is damaged so the unparseable paths are exercised too.
/// </summary>
internal sealed class RandomFirewall(int seed)
{
    private static readonly string[] V4Prefixes = ["0.0.0.0/0", "198.18.0.0/15", "198.18.0.0/16", "198.18.1.0/24", "198.18.1.7/32", "198.19.0.0/16", "198.19.128.0/17", "198.19.200.1/32"];
    private static readonly string[] V6Prefixes = ["::/0", "2001:2::/48", "2001:2:0:1::/64", "2001:2:0:1::5/128", "2001:2:0:8000::/49", "2001:2:0:ff::/64"];
    private static readonly string[] V4Hosts = ["198.18.1.7", "198.18.1.8", "198.18.2.1", "198.19.0.1", "198.19.200.1", "198.19.130.4", "10.1.1.1"];
    private static readonly string[] V6Hosts = ["2001:2:0:1::5", "2001:2:0:1::6", "2001:2:0:2::1", "2001:2:0:8001::1", "2001:2:0:ff::9", "2001:3::1"];
    private static readonly byte[] Protocols = [Tcp, Udp, Icmp, 58, 47];

    private readonly Random random = new(seed);

    /// <param name="countShare">
    /// The share of rules that count and continue (one in five by default): high, a packet walks many rules before one
    /// decides, so many rules' counters are exercised.
    /// </param>
    public FirewallPolicy Policy(int rules, double? countShare = null) => new(
        [.. Enumerable.Range(0, rules).Select(_ => Rule(countShare))],
        Pick(FirewallAction.Pass, FirewallAction.Drop), Pick(FirewallAction.Pass, FirewallAction.Drop), Pick(FirewallAction.Pass, FirewallAction.Drop));

    private FirewallRule Rule(double? countShare) => new(
        countShare is { } share
            ? random.NextDouble() < share ? FirewallAction.Count : Pick(FirewallAction.Pass, FirewallAction.Drop)
            : Pick(FirewallAction.Pass, FirewallAction.Drop, FirewallAction.Drop, FirewallAction.Pass, FirewallAction.Count),
        Source: Maybe(0.4, Prefixes),
        Destination: Maybe(0.3, Prefixes),
        Protocols: Maybe(0.3, () => List(1, 2, () => { var p = Pick(Protocols); return new KeyRange(p, p); })),
        SourcePorts: Maybe(0.15, () => List(1, 2, () => PortRange())),
        DestinationPorts: Maybe(0.35, () => List(1, 3, () => PortRange())),
        TcpFlags: random.NextDouble() < 0.15 ? FlagMatch() : null,
        Ingress: Maybe(0.15, () => List(1, 2, () => (uint)random.Next(1, 4))),
        Vlans: Maybe(0.15, () => List(1, 2, () => random.Next(3) == 0 ? new KeyRange(4096, 4096) : VlanRange())));

    private TcpFlagMatch FlagMatch()
    {
        var mask = (byte)random.Next(1, 64);
        return new TcpFlagMatch(mask, (byte)(random.Next(256) & mask));
    }

    private KeyRange PortRange()
    {
        var low = random.Next(5) == 0 ? random.Next(65536) : random.Next(70);
        return new KeyRange(low, Math.Min(65535, low + (random.Next(3) == 0 ? random.Next(40) : 0)));
    }

    private KeyRange VlanRange()
    {
        var low = random.Next(8);
        return new KeyRange(low, low + random.Next(3));
    }

    private List<IpPrefix> Prefixes() => List(1, 3, () =>
    {
        var text = random.Next(2) == 0 ? Pick(V4Prefixes) : Pick(V6Prefixes);
        return IpPrefix.Parse(text, out _)!.Value;
    });

    public (byte[] Frame, uint Ingress) Packet()
    {
        var protocol = random.Next(6) == 0 ? (byte)random.Next(256) : Pick(Protocols);
        var sport = random.Next(4) == 0 ? random.Next(65536) : random.Next(80);
        var dport = random.Next(4) == 0 ? random.Next(65536) : random.Next(80);
        var flags = (byte)random.Next(256);
        int[]? vlans = random.Next(3) switch { 0 => [random.Next(10)], 1 => [random.Next(10), random.Next(10)], _ => null };
        byte[] frame;
        if (random.Next(2) == 0)
        {
            frame = Ipv4(Pick(V4Hosts), Pick(V4Hosts), protocol, sport, dport, flags, vlans, random.Next(20));
        }
        else
        {
            var chain = Enumerable.Range(0, random.Next(4) == 0 ? random.Next(8) : 0)
                .Select(_ => Pick(HopByHop, Routing, DestOptions, Ah, DestOptions, Routing, Fragment)).ToArray();
            frame = Ipv6(Pick(V6Hosts), Pick(V6Hosts), protocol, sport, dport, flags, vlans, chain, random.Next(20));
        }
        return (Damage(frame), (uint)random.Next(1, 5));
    }

    private byte[] Damage(byte[] frame)
    {
        switch (random.Next(16))
        {
            case 0:
                return frame[..random.Next(frame.Length)];
            case 1:
                frame[12] = 0x08;
                frame[13] = 0x06;
                return frame;
            case 2:
                var ip = IpOffset(frame);
                if (ip + 8 < frame.Length)
                    frame[ip + random.Next(8)] = (byte)random.Next(256);
                return frame;
            default:
                return frame;
        }
    }

    private static int IpOffset(byte[] frame)
    {
        var offset = 12;
        while (offset + 2 <= frame.Length && (frame[offset] == 0x81 || frame[offset] == 0x88) && offset < 20)
            offset += 4;
        return offset + 2;
    }

    private T Pick<T>(params T[] items) => items[random.Next(items.Length)];

    private List<T> List<T>(int min, int max, Func<T> item) => [.. Enumerable.Range(0, random.Next(min, max + 1)).Select(_ => item())];

    private List<T>? Maybe<T>(double probability, Func<List<T>> make) => random.NextDouble() < probability ? make() : null;
}
