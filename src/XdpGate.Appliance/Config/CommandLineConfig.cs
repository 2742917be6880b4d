namespace XdpGate.Appliance.Config;

/// <summary>
/// The config of `xdpgate run --iface ... --prog ...` (and of benchmarks that run the same way), made in memory: the
/// model a file gives, so both run through one pipeline. The ports are the interfaces (afxdp, afpacket), generators
/// (synthetic) or captures (pcap, the port named after the file) given, in order; ports without an interface are
/// numbered 1, 2, ... as their ifindex. `host` passes to each port's host stack; a port's name makes it the bump in the
/// wire: with two ports each passes to the other, with more every other port passes to it and it to the host. There is
/// no file to reload, and no control socket unless one is given.
/// </summary>
public static class CommandLineConfig
{
    /// <param name="interfaces">Interface name to ifindex; by default <see cref="InterfaceLookup.Ifindex"/>.</param>
    public static ConfigResult Create(PortDriver driver, IReadOnlyList<string> ports, string pass, WorkersConfig workers, ProgramConfig program,
        ControlConfig? control = null, Func<string, uint?>? interfaces = null)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(pass);
        ArgumentNullException.ThrowIfNull(workers);
        ArgumentNullException.ThrowIfNull(program);
        var diagnostics = new ConfigDiagnostics();
        if (ports.Count == 0)
            diagnostics.Error(ConfigPosition.None, "no port given (--iface)");
        var result = new List<PortConfig>();
        foreach (var given in ports)
        {
            var name = driver == PortDriver.Pcap ? Path.GetFileNameWithoutExtension(given) : given;
            if (result.Any(p => p.Name == name))
                diagnostics.Error(ConfigPosition.None, $"port '{name}' is given more than once");
            uint ifindex = (uint)result.Count + 1;
            if (driver is PortDriver.Afxdp or PortDriver.Afpacket)
            {
                ifindex = InterfaceLookup.Check(diagnostics, ConfigPosition.None, name, driver, given, workers.Cpus.Count,
                    interfaces ?? InterfaceLookup.Ifindex, require: true) ?? 0;
            }
            else if (driver == PortDriver.Pcap && !File.Exists(given))
            {
                diagnostics.Error(ConfigPosition.None, $"{given}: no such capture file");
            }
            result.Add(new PortConfig(name, driver, driver is PortDriver.Afxdp or PortDriver.Afpacket ? given : null,
                driver == PortDriver.Pcap ? Path.GetFullPath(given) : null, workers.Cpus.Count, PortConfig.HostPass) { Ifindex = ifindex });
        }
        if (pass != PortConfig.HostPass && result.All(p => p.Name != pass))
        {
            diagnostics.Error(ConfigPosition.None, $"--pass {pass}: no such port (ports: {string.Join(", ", result.Select(p => p.Name))}; or '{PortConfig.HostPass}')");
        }
        else if (pass != PortConfig.HostPass)
        {
            var other = result.Count == 2 ? result.Single(p => p.Name != pass).Name : PortConfig.HostPass;
            result = [.. result.Select(p => p with { Pass = p.Name == pass ? other : pass })];
        }
        var config = new AppConfig(null, result, workers, program, control ?? ControlConfig.None, LoggingConfig.Default);
        return new ConfigResult(diagnostics.HasErrors ? null : config, diagnostics);
    }
}
