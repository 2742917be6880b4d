using System.Buffers.Binary;
using XdpGate.Appliance.Builtins.Firewall;

namespace XdpGate.Benchmarks;

/// <summary>
/// The firewall benchmarks' rule sets and frames: rule i drops (even i) or passes TCP from 198.18.x.y/32 (the i-th
/// address) to port 1000 + i % 1000. The "miss" frame matches no rule (every candidate block walked, the default
/// verdict); the "last" frame matches only the last rule.
/// </summary>
internal static class FirewallFixture
{
    public static FirewallPolicy Policy(int rules) => new([.. Enumerable.Range(0, rules).Select(i => new FirewallRule(
        i % 2 == 0 ? FirewallAction.Drop : FirewallAction.Pass,
        Source: [new IpPrefix(false, Source(i), 32)],
        Protocols: [new KeyRange(6, 6)],
        DestinationPorts: [new KeyRange(1000 + i % 1000, 1000 + i % 1000)]))]);

    public static byte[] Miss(int rules) => Frame(Source(rules), 80);

    public static byte[] Last(int rules) => Frame(Source(rules - 1), 1000 + (rules - 1) % 1000);

    private static uint Source(int i) => 0xc6120000u + (uint)i;

    private static byte[] Frame(uint source, int port)
    {
        var frame = new byte[14 + 20 + 20];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
        frame[14] = 0x45;
        frame[14 + 9] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(14 + 12), source);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(14 + 16), 0xc6130001);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(34), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(36), (ushort)port);
        frame[34 + 12] = 0x50;
        frame[34 + 13] = 0x02;
        return frame;
    }
}
