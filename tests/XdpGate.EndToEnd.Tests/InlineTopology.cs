using XdpGate.Testing.Net;


namespace XdpGate.EndToEnd.Tests;

/// <summary>
/// client ── veth ── [west  DUT  east] ── veth ── server: three namespaces this test made (random names), the
/// appliance's two ports in the middle one. Built from two <see cref="VethPair"/>s by moving the second pair's
/// first end into the first pair's second namespace. Reverse-path filtering is off in the DUT and the server, so
/// frames handed to a host stack from another interface than the route's are still delivered. Disposing deletes
/// every namespace (and so every link), also after a failure.
/// </summary>
public sealed class InlineTopology : IDisposable
{
    private readonly VethPair clientSide;
    private readonly VethPair serverSide;

    public InlineTopology()
    {
        clientSide = new VethPair("xe");
        try
        {
            serverSide = new VethPair("xe");
            VethPair.Ip($"-n {serverSide.NamespaceA} link set {serverSide.InterfaceA} netns {clientSide.NamespaceB}");
            VethPair.Ip($"-n {Dut} link set {East} up");
            foreach (var ns in new[] { Dut, Server })
            {
                VethPair.Exec(ns, "sysctl -q -w net.ipv4.conf.all.rp_filter=0");
                VethPair.Exec(ns, "sysctl -q -w net.ipv4.conf.default.rp_filter=0");
            }
            EastIfindex = int.Parse(VethPair.Exec(Dut, $"cat /sys/class/net/{East}/ifindex").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch
        {
            clientSide.Dispose();
            serverSide?.Dispose();
            throw;
        }
    }

    public string Client => clientSide.NamespaceA;
    public string Dut => clientSide.NamespaceB;
    public string Server => serverSide.NamespaceB;

    /// <summary>The DUT's port towards the client, and its address there.</summary>
    public string West => clientSide.InterfaceB;
    public string WestAddress => clientSide.AddressB;
    public byte[] WestMac => clientSide.MacB;

    /// <summary>The DUT's port towards the server.</summary>
    public string East => serverSide.InterfaceA;
    public int EastIfindex { get; }

    public string ClientAddress => clientSide.AddressA;
    public byte[] ClientMac => clientSide.MacA;
    public int ClientIfindex => clientSide.IfindexA;
    public string ServerAddress => serverSide.AddressB;
    public byte[] ServerMac => serverSide.MacB;
    public int ServerIfindex => serverSide.IfindexB;

    public T InClient<T>(Func<T> body) => clientSide.InA(body);
    public T InDut<T>(Func<T> body) => clientSide.InB(body);
    public T InServer<T>(Func<T> body) => serverSide.InB(body);

    public void Dispose()
    {
        clientSide.Dispose();
        serverSide.Dispose();
    }
}
