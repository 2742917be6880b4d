using System.Globalization;
using System.Security.Cryptography;
using XdpGate.Linux.Netns;

namespace XdpGate.Appliance.Bench;

/// <summary>
/// The benchmark wiring: namespaces <c>xgb-gen-SUFFIX</c> and <c>xgb-dut-SUFFIX</c>, a veth pair between them
/// (<see cref="GenInterface"/> → <see cref="DutInterface"/>, 198.18.N.1/.2), and in the DUT a second veth pair
/// (<see cref="OutInterface"/> → <see cref="SinkInterface"/>) that redirected frames leave by. The DUT's receive
/// work is moved off the sender's core (RPS, and threaded NAPI pinned to <paramref name="dutCpu"/>), or every figure
/// would measure the sender. Disposing deletes both namespaces and so every link.
/// </summary>
public sealed class BenchTopology : IDisposable
{
    private readonly List<string> namespaces = [];

    public BenchTopology(int dutCpu)
    {
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        Gen = $"xgb-gen-{suffix}";
        Dut = $"xgb-dut-{suffix}";
        GenInterface = $"xgg{suffix}";
        DutInterface = $"xgd{suffix}";
        OutInterface = $"xgo{suffix}";
        SinkInterface = $"xgs{suffix}";
        DutCpu = dutCpu;
        var subnet = RandomNumberGenerator.GetInt32(0, 256);
        GenAddress = $"198.18.{subnet}.1";
        DutAddress = $"198.18.{subnet}.2";
        try
        {
            foreach (var ns in new[] { Gen, Dut })
            {
                Ip($"netns add {ns}");
                namespaces.Add(ns);
                Ip($"-n {ns} link set lo up");
                Exec(ns, "sysctl -q -w net.ipv6.conf.all.disable_ipv6=1");
            }
            Ip($"link add {GenInterface} netns {Gen} type veth peer name {DutInterface} netns {Dut}");
            Ip($"-n {Dut} link add {OutInterface} type veth peer name {SinkInterface}");
            Ip($"-n {Gen} addr add {GenAddress}/24 dev {GenInterface}");
            Ip($"-n {Dut} addr add {DutAddress}/24 dev {DutInterface}");
            foreach (var (ns, device) in new[] { (Gen, GenInterface), (Dut, DutInterface), (Dut, OutInterface), (Dut, SinkInterface) })
                Ip($"-n {ns} link set {device} up");
            DutMac = Exec(Dut, $"cat /sys/class/net/{DutInterface}/address").Trim();
            DutIfindex = Ifindex(DutInterface);
            OutIfindex = Ifindex(OutInterface);
            var mask = (1 << dutCpu).ToString("x", CultureInfo.InvariantCulture);
            Exec(Dut, $"sh -c \"echo {mask} > /sys/class/net/{DutInterface}/queues/rx-0/rps_cpus\"");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Gen { get; }
    public string Dut { get; }
    public string GenInterface { get; }
    public string DutInterface { get; }
    public string OutInterface { get; }
    public string SinkInterface { get; }
    public string GenAddress { get; }
    public string DutAddress { get; }
    public string DutMac { get; } = "";
    public int DutIfindex { get; }
    public int OutIfindex { get; }
    public int DutCpu { get; }

    /// <summary>
    /// Moves the DUT interface's NAPI polling to kernel threads pinned to the DUT's CPU. veth runs NAPI only while an
    /// XDP program is attached (the kernel refuses threaded mode otherwise), so call this after attaching; without
    /// one, RPS (set up front) moves the receive work instead.
    /// </summary>
    public void PinNapiThreads()
    {
        try
        {
            Exec(Dut, $"sh -c \"echo 1 > /sys/class/net/{DutInterface}/threaded\"");
        }
        catch (InvalidOperationException)
        {
            return;
        }
        foreach (var line in Commands.Run("ps", "-eo pid=,comm=").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ', 2, StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && parts[1].StartsWith($"napi/{DutInterface}", StringComparison.Ordinal))
                Commands.Run("taskset", $"-pc {DutCpu} {parts[0]}");
        }
    }

    private int Ifindex(string device) => int.Parse(Exec(Dut, $"cat /sys/class/net/{device}/ifindex").Trim(), CultureInfo.InvariantCulture);

    public static string Ip(string arguments) => Commands.Ip(arguments);

    public static string Exec(string ns, string command) => Commands.Exec(ns, command);

    /// <summary>Why the topology cannot be built here, or null.</summary>
    public static string? WhyUnavailable() =>
        !Environment.IsPrivilegedProcess ? "not root: the benchmark builds network namespaces and veth pairs (CAP_NET_ADMIN)"
        : Environment.ProcessorCount < 2 ? "one CPU: the generator and the DUT need a core each"
        : null;

    public void Dispose()
    {
        foreach (var ns in namespaces)
            Commands.DeleteNamespace(ns);
        namespaces.Clear();
    }
}
