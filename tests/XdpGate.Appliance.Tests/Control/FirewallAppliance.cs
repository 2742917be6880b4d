using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.PcapFiles;
using XdpGate.Appliance.Service;
using XdpGate.Appliance.Tests.Firewall;

namespace XdpGate.Appliance.Tests.Control;

/// <summary>
/// The appliance running the built-in firewall from a config file in a temporary directory, its rules counting UDP and
/// dropping DNS, after its one pcap port replayed two UDP packets (to ports 53 and 54): what the control socket
/// serves. The config can be broken and restored to make a reload fail or succeed.
/// </summary>
internal sealed class FirewallAppliance : IDisposable
{
    private const string Config = """
        ports:
          - name: in
            driver: pcap
            pcap: traffic.pcap
        firewall:
          rules:
            - name: udp-seen
              action: count
              protocol: udp
            - name: dns
              action: drop
              dport: 53
        """;

    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-control-appliance-");

    public FirewallAppliance()
    {
        using (var file = File.Create(Path.Combine(temp.FullName, "traffic.pcap")))
        using (var writer = new PcapWriter(file))
        {
            writer.Write(DateTimeOffset.UnixEpoch, FirewallPackets.Ipv4("198.18.0.1", "198.18.0.2", FirewallPackets.Udp, destinationPort: 53));
            writer.Write(DateTimeOffset.UnixEpoch, FirewallPackets.Ipv4("198.18.0.1", "198.18.0.2", FirewallPackets.Udp, destinationPort: 54));
        }
        ConfigPath = Path.Combine(temp.FullName, "config.yaml");
        RestoreConfig();
        Appliance = RunningAppliance.FromFile(ConfigPath, new ApplianceOptions { Workers = new WorkerOptions { Pin = false }, WatchConfig = false });
        Appliance.Start();
        // The workers end once the capture is replayed; the appliance serves on.
        if (!Appliance.Pool.Join(TimeSpan.FromSeconds(10)))
            throw new TimeoutException("the two packets were not replayed within 10 s");
    }

    public RunningAppliance Appliance { get; }

    public string ConfigPath { get; }

    /// <summary>Writes a config with an unknown key at 1:1, which a reload refuses.</summary>
    public void BreakConfig() => File.WriteAllText(ConfigPath, "prots: []\n" + Config);

    public void RestoreConfig() => File.WriteAllText(ConfigPath, Config);

    public void Dispose()
    {
        Appliance.Dispose();
        temp.Delete(recursive: true);
    }
}
