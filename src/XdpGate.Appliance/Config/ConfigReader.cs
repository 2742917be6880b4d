using XdpGate.Appliance.Builtins;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace XdpGate.Appliance.Config;

/// <summary>The outcome of reading a config: the config (null when there are errors) and every problem found.</summary>
public sealed record ConfigResult(AppConfig? Config, ConfigDiagnostics Diagnostics);

/// <summary>
/// Reads and validates an appliance config (YAML). Every problem is reported at its line and column; nothing here
/// touches an interface (interfaces are looked up by name only) or opens a program: a built-in's section is read by
/// the built-in, and an object is opened once, by the build (<see cref="Service.BuiltProgram"/>), which reports its
/// problems at the positions kept here. See configs/reference.yaml for every key.
/// </summary>
public static class ConfigReader
{
    private static readonly string[] TopKeys = ["ports", "workers", "program", .. BuiltinRegistry.All.Select(b => b.Name), "control", "logging"];
    private static readonly string[] PortKeys = ["name", "driver", "interface", "pcap", "queues", "pass"];
    private static readonly string[] ProgramKeys = ["builtin", "object", "name", "rodata", "maps"];
    private static readonly Dictionary<string, PortDriver> Drivers = new()
    {
        ["afxdp"] = PortDriver.Afxdp, ["afpacket"] = PortDriver.Afpacket, ["pcap"] = PortDriver.Pcap, ["synthetic"] = PortDriver.Synthetic,
    };
    private static readonly Dictionary<string, LogLevel> Levels = new()
    {
        ["debug"] = LogLevel.Debug, ["info"] = LogLevel.Info, ["warning"] = LogLevel.Warning, ["error"] = LogLevel.Error,
    };
    private static readonly Dictionary<string, bool> Formats = new() { ["text"] = false, ["json"] = true };

    public static ConfigResult ReadFile(string path, Func<string, uint?>? interfaces = null, bool requireInterfaces = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Read(File.ReadAllText(path), path, interfaces, requireInterfaces);
    }

    /// <param name="text">The YAML.</param>
    /// <param name="path">Where it came from: relative paths in it (objects, pcaps, map files) are relative to its directory.</param>
    /// <param name="interfaces">Interface name to ifindex; by default <see cref="InterfaceLookup.Ifindex"/>.</param>
    /// <param name="requireInterfaces">
    /// Whether an interface missing here is an error (a config to run here) or a warning (a config checked on one machine
    /// and run on another); a missing interface's port keeps the placeholder ifindex of a port without one.
    /// </param>
    public static ConfigResult Read(string text, string path, Func<string, uint?>? interfaces = null, bool requireInterfaces = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(path);
        var diagnostics = new ConfigDiagnostics();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            diagnostics.Error(e.Start, $"not valid YAML: {e.InnerException?.Message ?? e.Message}");
            return new ConfigResult(null, diagnostics);
        }
        if (stream.Documents.Count != 1)
        {
            diagnostics.Error(new Mark(), $"a config is one YAML document; this file has {stream.Documents.Count}");
            return new ConfigResult(null, diagnostics);
        }
        var nodes = new YamlNodes(diagnostics);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var top = nodes.Mapping(stream.Documents[0].RootNode, "the config", TopKeys);
        if (top is null)
            return new ConfigResult(null, diagnostics);

        var workers = top.TryGetValue("workers", out var workersNode) ? Workers(nodes, workersNode) : WorkersConfig.Default;
        var ports = top.TryGetValue("ports", out var portsNode)
            ? Ports(nodes, portsNode, directory, interfaces ?? InterfaceLookup.Ifindex, requireInterfaces, workers.Cpus.Count) : [];
        var program = top.TryGetValue("program", out var programNode) ? Program(nodes, programNode, directory) : Builtin(BuiltinRegistry.Default, null);
        foreach (var builtin in BuiltinRegistry.All)
        {
            top.TryGetValue(builtin.Name, out var sectionNode);
            if (program.Builtin?.Name == builtin.Name)
            {
                program = program with
                {
                    Config = program.Config with
                    {
                        Builtin = builtin.Read(nodes, sectionNode, ports),
                        BuiltinAt = sectionNode is null ? program.Config.BuiltinAt : ConfigDiagnostics.At(sectionNode),
                    },
                };
            }
            else if (sectionNode is not null)
            {
                var running = program.Builtin is { } other ? $"the built-in {other.Name}" : "an object";
                diagnostics.Error(sectionNode, $"'{builtin.Name}' configures the built-in {builtin.Name}; this config's program is {running} (use program: {{builtin: {builtin.Name}}})");
            }
        }
        var control = ControlConfig.Default;
        if (top.TryGetValue("control", out var controlNode) && nodes.Mapping(controlNode, "'control'", ["socket"]) is { } c
            && c.TryGetValue("socket", out var socket))
            control = new ControlConfig(Resolve(directory, nodes.String(socket, "control.socket") ?? ControlConfig.DefaultSocket));
        var logging = LoggingConfig.Default;
        if (top.TryGetValue("logging", out var loggingNode) && nodes.Mapping(loggingNode, "'logging'", ["level", "format"]) is { } l)
        {
            logging = new LoggingConfig(
                l.TryGetValue("level", out var level) ? nodes.Enum(level, "logging.level", Levels) ?? LogLevel.Info : LogLevel.Info,
                l.TryGetValue("format", out var format) && (nodes.Enum(format, "logging.format", Formats) ?? false));
        }
        var config = new AppConfig(path, ports, workers, program.Config, control, logging);
        return new ConfigResult(diagnostics.HasErrors ? null : config, diagnostics);
    }

    private static string Resolve(string directory, string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(directory, path));

    private static List<PortConfig> Ports(YamlNodes nodes, YamlNode node, string directory, Func<string, uint?> interfaces, bool requireInterfaces, int workers)
    {
        var result = new List<PortConfig>();
        if (node is not YamlSequenceNode list)
        {
            nodes.Diagnostics.Error(node, "'ports' must be a list of ports");
            return result;
        }
        var passNodes = new List<(YamlNode Node, string Target)>();
        foreach (var item in list)
        {
            var what = $"port {result.Count + 1}";
            var port = nodes.Mapping(item, what, PortKeys);
            if (port is null)
                continue;
            if (!port.TryGetValue("name", out var nameNode))
            {
                nodes.Diagnostics.Error(item, $"{what} needs a 'name'");
                continue;
            }
            var name = nodes.String(nameNode, "a port name") ?? "";
            if (result.Any(p => p.Name == name))
                nodes.Diagnostics.Error(nameNode, $"a port named '{name}' is already defined");
            var driver = port.TryGetValue("driver", out var d) ? nodes.Enum(d, $"port '{name}' driver", Drivers) ?? PortDriver.Afxdp : PortDriver.Afxdp;
            string? iface = null, pcap = null;
            uint ifindex = 0x10000u + (uint)result.Count;
            if (port.TryGetValue("interface", out var ifaceNode))
            {
                iface = nodes.String(ifaceNode, $"port '{name}' interface");
                if (iface is not null && driver is PortDriver.Pcap or PortDriver.Synthetic)
                    nodes.Diagnostics.Error(ifaceNode, $"port '{name}': a {driver.ToString().ToLowerInvariant()} port has no interface");
                else if (iface is not null)
                    ifindex = InterfaceLookup.Check(nodes.Diagnostics, ConfigDiagnostics.At(ifaceNode), name, driver, iface, workers, interfaces, requireInterfaces) ?? ifindex;
            }
            else if (driver is PortDriver.Afxdp or PortDriver.Afpacket)
            {
                nodes.Diagnostics.Error(item, $"port '{name}': an {driver.ToString().ToLowerInvariant()} port needs an 'interface'");
            }
            if (port.TryGetValue("pcap", out var pcapNode))
            {
                pcap = nodes.String(pcapNode, $"port '{name}' pcap") is { } p ? Resolve(directory, p) : null;
                if (driver != PortDriver.Pcap)
                    nodes.Diagnostics.Error(pcapNode, $"port '{name}': 'pcap' is for the pcap driver");
                else if (pcap is not null && !File.Exists(pcap))
                    nodes.Diagnostics.Error(pcapNode, $"port '{name}': pcap file '{pcap}' does not exist");
            }
            else if (driver == PortDriver.Pcap)
            {
                nodes.Diagnostics.Error(item, $"port '{name}': a pcap port needs a 'pcap' file");
            }
            // Each worker owns one queue of every port, so a port has exactly as many queues as there are workers.
            if (port.TryGetValue("queues", out var q) && nodes.Int(q, $"port '{name}' queues", 1, 256) is { } asked && asked != workers)
                nodes.Diagnostics.Error(q, $"port '{name}' asks for {asked} queue(s) but there are {workers} worker(s); each worker owns one queue of every port");
            var pass = PortConfig.HostPass;
            if (port.TryGetValue("pass", out var passNode) && nodes.String(passNode, $"port '{name}' pass") is { } target)
            {
                pass = target;
                passNodes.Add((passNode, target));
            }
            result.Add(new PortConfig(name, driver, iface, pcap, workers, pass) { Ifindex = ifindex });
        }
        foreach (var (passNode, target) in passNodes)
        {
            if (target != PortConfig.HostPass && result.All(p => p.Name != target))
                nodes.Diagnostics.Error(passNode, $"pass target '{target}' is neither 'host' nor a port name");
        }
        return result;
    }

    private static WorkersConfig Workers(YamlNodes nodes, YamlNode node)
    {
        if (node is YamlScalarNode)
            return nodes.Int(node, "'workers'", 1, 1024) is { } count ? new WorkersConfig([.. Enumerable.Range(0, count)]) : WorkersConfig.Default;
        if (node is YamlSequenceNode sequence && sequence.Children.Count > 0)
        {
            var cpus = new List<int>();
            foreach (var item in sequence)
            {
                if (nodes.Int(item, "a worker CPU", 0, 4095) is not { } cpu)
                    continue;
                if (cpus.Contains(cpu))
                    nodes.Diagnostics.Error(item, $"CPU {cpu} is listed twice");
                cpus.Add(cpu);
            }
            return new WorkersConfig(cpus);
        }
        nodes.Diagnostics.Error(node, "'workers' must be a count or a non-empty list of CPU numbers");
        return WorkersConfig.Default;
    }

    /// <summary>A program section read: the config, and the built-in it names (its section is read once the ports are known).</summary>
    private sealed record ReadProgram(ProgramConfig Config, IBuiltin? Builtin);

    private static ReadProgram Builtin(IBuiltin builtin, YamlNode? at) =>
        new(new ProgramConfig { BuiltinAt = at is null ? ConfigPosition.None : ConfigDiagnostics.At(at) }, builtin);

    private static ReadProgram Program(YamlNodes nodes, YamlNode node, string directory)
    {
        var program = nodes.Mapping(node, "'program'", ProgramKeys);
        if (program is null)
            return Builtin(BuiltinRegistry.Default, node);
        var hasBuiltin = program.TryGetValue("builtin", out var builtinNode);
        var hasObject = program.TryGetValue("object", out var objectNode);
        if (hasBuiltin == hasObject)
        {
            nodes.Diagnostics.Error(node, "'program' needs exactly one of 'builtin' or 'object'");
            return Builtin(BuiltinRegistry.Default, node);
        }
        if (hasBuiltin)
        {
            var name = nodes.String(builtinNode!, "program.builtin");
            var builtin = name is null ? null : BuiltinRegistry.Find(name);
            if (name is not null && builtin is null)
                nodes.Diagnostics.Error(builtinNode!, $"no built-in program '{name}' (built-in: {BuiltinRegistry.Names})");
            builtin ??= BuiltinRegistry.Default;
            foreach (var key in program.Keys.Where(k => k != "builtin"))
                nodes.Diagnostics.Error(program[key], $"program.{key} is for object programs; the built-in {builtin.Name} is configured by its section '{builtin.Name}'");
            return Builtin(builtin, builtinNode);
        }
        var objectText = nodes.String(objectNode!, "program.object");
        var result = new ProgramConfig
        {
            Object = objectText is null ? null : Resolve(directory, objectText),
            ObjectText = objectText,
            ObjectAt = ConfigDiagnostics.At(objectNode!),
        };
        if (program.TryGetValue("name", out var nameNode))
            result = result with { Name = nodes.String(nameNode, "program.name"), NameAt = ConfigDiagnostics.At(nameNode) };
        if (program.TryGetValue("maps", out var mapsNode) && nodes.String(mapsNode, "program.maps") is { } maps)
            result = result with { MapsFile = Resolve(directory, maps), MapsAt = ConfigDiagnostics.At(mapsNode) };
        if (program.TryGetValue("rodata", out var rodataNode) && rodataNode is YamlMappingNode settings)
        {
            result = result with
            {
                Rodata = [.. settings.Children.Select(s => new RodataSetting((s.Key as YamlScalarNode)?.Value ?? "", (s.Value as YamlScalarNode)?.Value ?? "",
                    ConfigDiagnostics.At(s.Key), ConfigDiagnostics.At(s.Value)))],
            };
        }
        else if (rodataNode is not null)
        {
            nodes.Diagnostics.Error(rodataNode, "program.rodata must be a mapping of variable names to values");
        }
        return new ReadProgram(result, null);
    }
}
