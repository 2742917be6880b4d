using XdpGate.Appliance.Drivers.Pcap;
using XdpGate.Appliance.Drivers.Synthetic;
using XdpGate.Appliance.Ports;

namespace XdpGate.Appliance.Drivers;

/// <summary>`--driver synthetic`: each `--iface` names a generator port; ifindexes are 1, 2, ... in the order given.</summary>
public sealed class SyntheticDriver(SyntheticTraffic traffic) : IPortDriver
{
    private int nextIfindex = 1;

    public string Name => "synthetic";

    public IPort Open(string name, PortOptions options) => new SyntheticPort(name, nextIfindex++, traffic, options);
}

/// <summary>
/// `--driver pcap`: each `--iface` is a capture file replayed as that port's traffic; the port is named after the
/// file and numbered 1, 2, ... in the order given. Outputs go to <paramref name="outputDirectory"/> when set.
/// </summary>
public sealed class PcapDriver(string? outputDirectory) : IPortDriver
{
    private int nextIfindex = 1;

    public string Name => "pcap";

    public IPort Open(string name, PortOptions options)
    {
        if (outputDirectory is not null && !Directory.Exists(outputDirectory))
            throw new DirectoryNotFoundException($"{outputDirectory}: no such directory for the capture outputs");
        return new PcapPort(name, nextIfindex++, options, outputDirectory);
    }
}
