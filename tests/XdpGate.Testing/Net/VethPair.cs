using System.Security.Cryptography;
using XdpGate.Linux.Netns;

namespace XdpGate.Testing.Net;

/// <summary>
/// Two network namespaces this test made, joined by a veth pair, with addresses in 198.18.0.0/15: side A
/// (<see cref="NamespaceA"/>, <see cref="InterfaceA"/>, 198.18.N.1) and side B (198.18.N.2). Names carry a random
/// suffix so parallel tests do not collide; Dispose deletes both namespaces (which removes the veth pair too), also
/// when the constructor fails half way. IPv6 is off in both so no stray router solicitations reach the tests.
/// Needs root: check <see cref="WhyUnavailable"/> first.
/// </summary>
public sealed class VethPair : IDisposable
{
    private readonly List<string> namespaces = [];

    /// <param name="prefix">Starts every name (at most 3 characters, so interface names fit IFNAMSIZ).</param>
    /// <param name="queues">RX and TX queues of each end (veth numrxqueues/numtxqueues).</param>
    public VethPair(string prefix = "xg", int queues = 1)
    {
        if (prefix.Length is 0 or > 3)
            throw new ArgumentException($"prefix '{prefix}' must be 1 to 3 characters", nameof(prefix));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(queues);
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        NamespaceA = $"{prefix}-a-{suffix}";
        NamespaceB = $"{prefix}-b-{suffix}";
        // Interface names stay within IFNAMSIZ (15 characters).
        InterfaceA = $"{prefix}a{suffix}";
        InterfaceB = $"{prefix}b{suffix}";
        var subnet = RandomNumberGenerator.GetInt32(0, 256);
        AddressA = $"198.18.{subnet}.1";
        AddressB = $"198.18.{subnet}.2";
        try
        {
            foreach (var ns in new[] { NamespaceA, NamespaceB })
            {
                Ip($"netns add {ns}");
                namespaces.Add(ns);
                Ip($"-n {ns} link set lo up");
                Sysctl(ns, "net.ipv6.conf.all.disable_ipv6=1");
                Sysctl(ns, "net.ipv6.conf.default.disable_ipv6=1");
            }
            var queueCounts = $"numrxqueues {queues} numtxqueues {queues}";
            Ip($"link add {InterfaceA} netns {NamespaceA} {queueCounts} type veth peer name {InterfaceB} netns {NamespaceB} {queueCounts}");
            Ip($"-n {NamespaceA} addr add {AddressA}/24 dev {InterfaceA}");
            Ip($"-n {NamespaceB} addr add {AddressB}/24 dev {InterfaceB}");
            Ip($"-n {NamespaceA} link set {InterfaceA} up");
            Ip($"-n {NamespaceB} link set {InterfaceB} up");
            MacA = Mac(NamespaceA, InterfaceA);
            MacB = Mac(NamespaceB, InterfaceB);
            IfindexA = Ifindex(NamespaceA, InterfaceA);
            IfindexB = Ifindex(NamespaceB, InterfaceB);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string NamespaceA { get; }
    public string NamespaceB { get; }
    public string InterfaceA { get; }
    public string InterfaceB { get; }
    public string AddressA { get; }
    public string AddressB { get; }
    public byte[] MacA { get; } = [];
    public byte[] MacB { get; } = [];
    public int IfindexA { get; }
    public int IfindexB { get; }

    /// <summary>Why the pair cannot be made here (not root, no ip command), or null.</summary>
    public static string? WhyUnavailable()
    {
        if (!OperatingSystem.IsLinux())
            return "network namespaces are Linux";
        if (!Environment.IsPrivilegedProcess)
            return "not root: creating network namespaces and veth pairs needs CAP_NET_ADMIN";
        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip"))
            return "the ip command (iproute2) is not installed";
        return null;
    }

    /// <summary>Runs <paramref name="body"/> inside namespace A (sockets made there stay there).</summary>
    public T InA<T>(Func<T> body) => NetworkNamespace.Run(NamespaceA, body);

    /// <summary>Runs <paramref name="body"/> inside namespace B.</summary>
    public T InB<T>(Func<T> body) => NetworkNamespace.Run(NamespaceB, body);

    /// <summary>Runs <c>ip ARGUMENTS</c> and returns its output; throws with its error text when it fails.</summary>
    public static string Ip(string arguments) => Commands.Ip(arguments);

    /// <summary>Runs a command inside namespace <paramref name="ns"/> (ip netns exec).</summary>
    public static string Exec(string ns, string command) => Commands.Exec(ns, command);

    public void Dispose()
    {
        foreach (var ns in namespaces)
            Commands.DeleteNamespace(ns);
        namespaces.Clear();
    }

    private static void Sysctl(string ns, string setting) => Exec(ns, $"sysctl -q -w {setting}");

    private static byte[] Mac(string ns, string device) =>
        Convert.FromHexString(Exec(ns, $"cat /sys/class/net/{device}/address").Trim().Replace(":", "", StringComparison.Ordinal));

    private static int Ifindex(string ns, string device) =>
        int.Parse(Exec(ns, $"cat /sys/class/net/{device}/ifindex").Trim(), System.Globalization.CultureInfo.InvariantCulture);
}
