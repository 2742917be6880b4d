using XdpGate.Appliance.Config;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Drivers.Pcap;
using XdpGate.Appliance.Drivers.Synthetic;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.AfPacket;
using XdpGate.Appliance.Ports.AfXdp;

namespace XdpGate.Appliance.Service;

/// <summary>
/// The ports of a config, opened in config order with one queue per worker, and where each one's XDP_PASS frames go
/// (its own `pass`: the host stack, or the named port). Ports without an interface get the ifindex the config gave
/// them (0x10000 + position), which is what the firewall's ingress rules were compiled against.
/// </summary>
public sealed class ConfiguredPorts : IDisposable
{
    private readonly List<IPort> ports = [];
    private readonly AppConfig config;

    public ConfiguredPorts(AppConfig config, int workers, ApplianceOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        this.config = config;
        if (config.Ports.Count == 0)
            throw new ConfigBuildException($"{config.Path}: no ports: the appliance needs at least one under 'ports'");
        var portOptions = options.Ports with { Queues = workers };
        try
        {
            foreach (var port in config.Ports)
                ports.Add(options.OpenPort?.Invoke(port, portOptions) ?? Open(port, portOptions, options));
        }
        catch (Exception e) when (e is not ConfigBuildException)
        {
            var failed = config.Ports[ports.Count].Name;
            Dispose();
            throw new ConfigBuildException($"{config.Path}: opening port '{failed}': {e.Message}", e);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The open ports, in config order.</summary>
    public IReadOnlyList<IPort> Ports => ports;

    private static IPort Open(PortConfig port, PortOptions options, ApplianceOptions appliance) => port.Driver switch
    {
        PortDriver.Afxdp => AfXdpPort.Open(port.Interface!, options),
        PortDriver.Afpacket => AfPacketPort.Open(port.Interface!, options),
        PortDriver.Pcap => new PcapPort(port.Pcap!, (int)port.Ifindex, options, appliance.PcapOutput, port.Name),
        _ => new SyntheticPort(port.Name, (int)port.Ifindex, appliance.Synthetic, options),
    };

    /// <summary>
    /// Where worker <c>queue</c>'s PASS frames of each port go: its host stack (its own stand-in, or
    /// <paramref name="hostStack"/> for a real interface) or the named peer's queue of the same worker.
    /// </summary>
    public Func<IPort, int, IFrameSink?> PassTargets(Func<IPort, int, IFrameSink>? hostStack)
    {
        var host = Dataplane.PassTargets.Resolve(ports, Dataplane.PassTargets.Host, hostStack);
        return (port, queue) =>
        {
            var target = config.Ports[ports.IndexOf(port)].Pass;
            return target == PortConfig.HostPass ? host(port, queue) : ports[config.Ports.ToList().FindIndex(p => p.Name == target)].Queues[queue];
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
