using XdpGate.Appliance.Builtins.Firewall;
using Xunit;
using static XdpGate.Appliance.Tests.Firewall.FirewallPackets;

namespace XdpGate.Appliance.Tests.Firewall;

public class FirewallProgramTests
{
    private const uint Pass = 2, Drop = 1;

    private static IpPrefix P(string text) => IpPrefix.Parse(text, out var error) ?? throw new ArgumentException(error);

    private static KeyRange[] Keys(params int[] keys) => [.. keys.Select(k => new KeyRange(k, k))];

    [Fact]
    public void A_packet_takes_the_first_matching_rule()
    {
        using var firewall = new FirewallHarness(new FirewallPolicy(
        [
            new FirewallRule(FirewallAction.Drop, Source: [P("198.18.1.0/24")]),
            new FirewallRule(FirewallAction.Pass, Source: [P("198.18.0.0/15")]),
        ], DefaultAction: FirewallAction.Drop));

        Assert.Equal(Drop, firewall.Run(Ipv4("198.18.1.9", "198.19.0.1", Tcp)));
        Assert.Equal(Pass, firewall.Run(Ipv4("198.18.2.9", "198.19.0.1", Tcp)));
        Assert.Equal(Drop, firewall.Run(Ipv4("10.0.0.1", "198.19.0.1", Tcp)));
        Assert.Equal((1UL, 0UL), (firewall.RuleCounter(0).Packets, firewall.RuleCounter(1).Packets - 1));
        Assert.Equal(1UL, firewall.Stat(fw_stat.FW_STAT_DEFAULT).Packets);
    }

    [Fact]
    public void A_count_rule_counts_packets_and_bytes_and_the_walk_goes_on()
    {
        using var firewall = new FirewallHarness(new FirewallPolicy(
        [
            new FirewallRule(FirewallAction.Count, Protocols: Keys(Udp)),
            new FirewallRule(FirewallAction.Drop, DestinationPorts: [new KeyRange(53, 53)]),
        ]));
        var dns = Ipv4("198.18.0.1", "198.18.0.2", Udp, destinationPort: 53, payload: 10);
        var other = Ipv4("198.18.0.1", "198.18.0.2", Udp, destinationPort: 54);

        Assert.Equal(Drop, firewall.Run(dns));
        Assert.Equal(Pass, firewall.Run(other));
        Assert.Equal((2UL, (ulong)(dns.Length + other.Length)), firewall.RuleCounter(0));
        Assert.Equal((1UL, (ulong)dns.Length), firewall.RuleCounter(1));
    }

    [Fact]
    public void An_ipv4_only_rule_never_matches_ipv6_and_ipv6_prefixes_match_by_longest_rule_order()
    {
        using var firewall = new FirewallHarness(new FirewallPolicy(
        [
            new FirewallRule(FirewallAction.Drop, Source: [P("198.18.0.0/15")]),
            new FirewallRule(FirewallAction.Drop, Source: [P("2001:2:0:1::/64")]),
            new FirewallRule(FirewallAction.Pass, Source: [P("2001:2::/48")]),
        ], DefaultAction: FirewallAction.Drop));

        Assert.Equal(Drop, firewall.Run(Ipv6("2001:2:0:1::5", "2001:2::1", Tcp)));
        Assert.Equal(Pass, firewall.Run(Ipv6("2001:2:0:2::5", "2001:2::1", Tcp)));
        Assert.Equal(Drop, firewall.Run(Ipv6("2001:3::5", "2001:2::1", Tcp)));
        Assert.Equal(0UL, firewall.RuleCounter(0).Packets);
    }

    [Fact]
    public void Ports_flags_vlans_and_ingress_ports_all_have_to_match()
    {
        using var firewall = new FirewallHarness(new FirewallPolicy(
        [
            new FirewallRule(FirewallAction.Pass, Protocols: Keys(Tcp), DestinationPorts: [new KeyRange(80, 89)],
                TcpFlags: new TcpFlagMatch(0x12, 0x02), Ingress: [3], Vlans: [new KeyRange(100, 100), new KeyRange(4096, 4096)]),
        ], DefaultAction: FirewallAction.Drop));

        Assert.Equal(Pass, firewall.Run(Ipv4("198.18.0.1", "198.18.0.2", Tcp, destinationPort: 85), ingressIfindex: 3));
        Assert.Equal(Pass, firewall.Run(Ipv4("198.18.0.1", "198.18.0.2", Tcp, destinationPort: 85, vlans: [100, 7]), ingressIfindex: 3));
        Assert.Equal(Drop, firewall.Run(Ipv4("198.18.0.1", "198.18.0.2", Tcp, destinationPort: 85, vlans: [7, 100]), ingressIfindex: 3));
        Assert.Equal(Drop, firewall.Run(Ipv4("198.18.0.1", "198.18.0.2", Tcp, destinationPort: 90), ingressIfindex: 3));
        Assert.Equal(Drop, firewall.Run(Ipv4("198.18.0.1", "198.18.0.2", Tcp, destinationPort: 85, tcpFlags: 0x12), ingressIfindex: 3));
        Assert.Equal(Drop, firewall.Run(Ipv4("198.18.0.1", "198.18.0.2", Tcp, destinationPort: 85), ingressIfindex: 4));
        Assert.Equal(Drop, firewall.Run(Ipv4("198.18.0.1", "198.18.0.2", Udp, destinationPort: 85), ingressIfindex: 3));
    }

    [Fact]
    public void Rules_past_the_first_bitmap_block_are_found_in_order()
    {
        var rules = Enumerable.Range(0, 1500)
            .Select(i => new FirewallRule(i % 2 == 0 ? FirewallAction.Drop : FirewallAction.Pass, DestinationPorts: [new KeyRange(i, i)]))
            .ToList();
        using var firewall = new FirewallHarness(new FirewallPolicy(rules, DefaultAction: FirewallAction.Drop));

        foreach (var port in new[] { 0, 511, 512, 513, 1023, 1024, 1499 })
        {
            Assert.Equal(port % 2 == 0 ? Drop : Pass, firewall.Run(Ipv4("198.18.0.1", "198.18.0.2", Udp, destinationPort: port)));
            Assert.Equal(1UL, firewall.RuleCounter(port).Packets);
        }
        Assert.Equal(Drop, firewall.Run(Ipv4("198.18.0.1", "198.18.0.2", Udp, destinationPort: 1500)));
        Assert.Equal(1UL, firewall.Stat(fw_stat.FW_STAT_DEFAULT).Packets);
    }

    public static TheoryData<string, byte[], fw_stat> Unparseable()
    {
        var tcp = Ipv4("198.18.0.1", "198.18.0.2", Tcp);
        var ihl4 = (byte[])tcp.Clone();
        ihl4[14] = 0x44;
        var version6In4 = (byte[])tcp.Clone();
        version6In4[14] = 0x65;
        var moreFragments = (byte[])tcp.Clone();
        moreFragments[14 + 6] = 0x20;
        var laterFragment = (byte[])tcp.Clone();
        laterFragment[14 + 7] = 0x01;
        var arp = Frame(null, 0x0806, new byte[28]);
        return new TheoryData<string, byte[], fw_stat>
        {
            { "shorter than an Ethernet header", tcp[..13], fw_stat.FW_STAT_TRUNCATED },
            { "a VLAN tag cut short", Frame([5], 0x0800, [])[..16], fw_stat.FW_STAT_TRUNCATED },
            { "an IPv4 header cut short", tcp[..33], fw_stat.FW_STAT_TRUNCATED },
            { "IHL below 5", ihl4, fw_stat.FW_STAT_BAD_HEADER },
            { "version 6 in an IPv4 ethertype", version6In4, fw_stat.FW_STAT_BAD_HEADER },
            { "IPv4 options past the frame", Ipv4WithIhl(15)[..40], fw_stat.FW_STAT_TRUNCATED },
            { "an IPv4 first fragment (MF)", moreFragments, fw_stat.FW_STAT_FRAGMENT },
            { "an IPv4 later fragment (offset)", laterFragment, fw_stat.FW_STAT_FRAGMENT },
            { "a TCP header cut short", tcp[..(14 + 20 + 19)], fw_stat.FW_STAT_TRUNCATED },
            { "a UDP header cut short", Ipv4("198.18.0.1", "198.18.0.2", Udp)[..(14 + 20 + 7)], fw_stat.FW_STAT_TRUNCATED },
            { "an IPv6 header cut short", Ipv6("2001:2::1", "2001:2::2", Udp)[..53], fw_stat.FW_STAT_TRUNCATED },
            { "an IPv6 fragment header", Ipv6("2001:2::1", "2001:2::2", Udp, extensionHeaders: [Fragment]), fw_stat.FW_STAT_FRAGMENT },
            { "hop-by-hop after another extension header", Ipv6("2001:2::1", "2001:2::2", Udp, extensionHeaders: [DestOptions, HopByHop]), fw_stat.FW_STAT_BAD_EXT_CHAIN },
            { "seven extension headers", Ipv6("2001:2::1", "2001:2::2", Udp, extensionHeaders: [HopByHop, DestOptions, Routing, Ah, DestOptions, Routing, DestOptions]), fw_stat.FW_STAT_BAD_EXT_CHAIN },
            { "an extension header past the frame", Ipv6("2001:2::1", "2001:2::2", Udp, extensionHeaders: [DestOptions])[..(14 + 40 + 4)], fw_stat.FW_STAT_TRUNCATED },
            { "an ARP frame", arp, fw_stat.FW_STAT_NON_IP },
        };
    }

    private static byte[] Ipv4WithIhl(int ihl)
    {
        var body = new byte[ihl * 4 + 20];
        body[0] = (byte)(0x40 | ihl);
        body[9] = Tcp;
        return Frame(null, 0x0800, body);
    }

    [Theory]
    [MemberData(nameof(Unparseable))]
    public void A_packet_the_firewall_cannot_parse_gets_the_documented_action_and_is_counted(string what, byte[] frame, fw_stat expected)
    {
        Assert.NotNull(what);
        using var firewall = new FirewallHarness(new FirewallPolicy(
            [new FirewallRule(FirewallAction.Pass)], UnparseableAction: FirewallAction.Drop, NonIpAction: FirewallAction.Pass));

        var verdict = firewall.Run(frame);

        Assert.Equal(expected == fw_stat.FW_STAT_NON_IP ? Pass : Drop, verdict);
        Assert.Equal(1UL, firewall.Stat(expected).Packets);
        Assert.Equal(0UL, firewall.RuleCounter(0).Packets);
        Assert.Equal(expected, PacketFields.Parse(frame).Problem);
    }

    [Fact]
    public void Six_extension_headers_are_walked_and_the_ports_behind_them_match()
    {
        using var firewall = new FirewallHarness(new FirewallPolicy(
            [new FirewallRule(FirewallAction.Drop, DestinationPorts: [new KeyRange(80, 80)])]));

        Assert.Equal(Drop, firewall.Run(Ipv6("2001:2::1", "2001:2::2", Tcp, extensionHeaders: [HopByHop, DestOptions, Routing, Ah, DestOptions, Routing])));
        Assert.Equal(Pass, firewall.Run(Ipv6("2001:2::1", "2001:2::2", Tcp, destinationPort: 81, extensionHeaders: [HopByHop, Ah])));
    }

    [Fact]
    public void Thirty_thousand_rules_with_distinct_sources_store_only_their_non_empty_blocks_and_still_match_in_order()
    {
        var rules = Enumerable.Range(0, 30_000)
            .Select(i => new FirewallRule(i % 2 == 0 ? FirewallAction.Drop : FirewallAction.Pass, Source: [new IpPrefix(false, 0xc6120000u + (uint)i, 32)]))
            .ToList();
        var policy = new FirewallPolicy(rules, DefaultAction: FirewallAction.Drop);

        var compiled = RuleCompiler.Compile(policy);
        Assert.Equal(59, compiled.Blocks);
        Assert.True(compiled.StoredBlocks < 2 * compiled.Bitmaps.Count, $"{compiled.StoredBlocks} blocks stored for {compiled.Bitmaps.Count} classes");

        using var firewall = new FirewallHarness(policy);
        foreach (var i in new[] { 0, 1, 511, 512, 29_998, 29_999 })
        {
            var source = System.Net.IPAddress.Parse($"198.18.{i >> 8}.{i & 255}").ToString();
            Assert.Equal(i % 2 == 0 ? Drop : Pass, firewall.Run(Ipv4(source, "198.19.0.1", Tcp)));
            Assert.Equal(1UL, firewall.RuleCounter(i).Packets);
        }
    }
}
