using XdpGate.Appliance.Config;
using XdpGate.Appliance.Ports.Pcap;
using XdpGate.Appliance.Ports.Synthetic;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.AfPacket;
using XdpGate.Appliance.Ports.AfXdp;

namespace XdpGate.Appliance.Service;

/// <summary>
/// The ports of a config, opened in config order by their driver with one queue per worker, and where each one's
/// XDP_PASS frames go (its <c>pass</c>). <c>host</c> is the host network stack behind the port: for a real interface
/// a TAP device the appliance creates (frames written to it are received by the kernel as if they arrived on that TAP
/// interface), for in-memory ports their own stand-in. A port's name is the bump-in-the-wire mode: that port's queue
/// of the same worker. Ports without an interface get the ifindex the config gave them, which is what a firewall's
/// ingress rules were compiled against.
/// </summary>
public sealed class ConfiguredPorts : IDisposable
{
    private readonly List<IPort> ports = [];
    private readonly AppConfig config;

    public ConfiguredPorts(AppConfig config, ApplianceOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        this.config = config;
        if (config.Ports.Count == 0)
            throw new ConfigBuildException($"{config.Origin}: no ports: the appliance needs at least one");
        var portOptions = options.Ports with { Queues = config.Workers.Cpus.Count };
        try
        {
            foreach (var port in config.Ports)
                ports.Add(options.OpenPort?.Invoke(port, portOptions) ?? Open(port, portOptions, options));
        }
        catch (Exception e) when (e is not ConfigBuildException)
        {
            var failed = config.Ports[ports.Count].Name;
            Dispose();
            throw new ConfigBuildException($"{config.Origin}: opening port '{failed}': {e.Message}", e);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The open ports, in config order.</summary>
    public IReadOnlyList<IPort> Ports => ports;

    private static IPort Open(PortConfig port, PortOptions options, ApplianceOptions appliance)
    {
        switch (port.Driver)
        {
            case PortDriver.Afxdp:
                return AfXdpPort.Open(port.Interface!, options);
            case PortDriver.Afpacket:
                return AfPacketPort.Open(port.Interface!, options);
            case PortDriver.Pcap:
                if (appliance.PcapOutput is { } output && !Directory.Exists(output))
                    throw new DirectoryNotFoundException($"{output}: no such directory for the capture outputs");
                return new PcapPort(port.Pcap!, (int)port.Ifindex, options, appliance.PcapOutput, port.Name);
            default:
                return new SyntheticPort(port.Name, (int)port.Ifindex, appliance.Synthetic, options);
        }
    }

    /// <summary>
    /// Where worker <c>queue</c>'s PASS frames of each port go: its host stack (its own stand-in, or
    /// <paramref name="hostStack"/> for a real interface) or the named peer's queue of the same worker.
    /// </summary>
    public Func<IPort, int, IFrameSink?> PassTargets(Func<IPort, int, IFrameSink>? hostStack)
    {
        IFrameSink? Host(IPort port, int queue) => port is IHostStackPort own ? own.HostStack(queue) : hostStack?.Invoke(port, queue);
        return (port, queue) =>
        {
            var target = config.Ports[ports.IndexOf(port)].Pass;
            return target == PortConfig.HostPass ? Host(port, queue) : ports[config.Ports.ToList().FindIndex(p => p.Name == target)].Queues[queue];
        };
    }

    /// <summary>The config's name of an open port (afxdp and afpacket ports are named after their interface).</summary>
    public string NameOf(int index) => config.Ports[index].Name;

    public void Dispose()
    {
        foreach (var port in ports)
            port.Dispose();
        ports.Clear();
    }
}
