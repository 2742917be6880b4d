using System.CommandLine;
using System.Globalization;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Appliance.Config;

namespace XdpGate.Cli.Commands;

/// <summary>`xdpgate check --config FILE`: validates a config without touching any interface and prints the compiled plan.</summary>
internal static class CheckCommand
{
    public static Command Build(CliIo io)
    {
        var config = new Option<string>("--config", "-c") { Description = "Appliance config (YAML)", Required = true };
        var requireInterfaces = new Option<bool>("--require-interfaces")
        {
            Description = "Interfaces missing on this machine are errors, as for run (by default they are warnings, so a config for another machine checks)",
        };
        var command = new Command("check", "Validate a config and print what it would load: programs, maps and entry counts; exit 0 only when valid") { config, requireInterfaces };
        command.SetAction(parsed =>
        {
            var path = parsed.GetValue(config)!;
            if (!File.Exists(path))
                throw new CliInputException($"{path}: no such file");
            var result = ConfigReader.ReadFile(path, requireInterfaces: parsed.GetValue(requireInterfaces));
            foreach (var diagnostic in result.Diagnostics.Sorted())
                io.Error.WriteLine(diagnostic.Format(path));
            if (result.Config is not { } valid)
            {
                io.Error.WriteLine($"{path}: invalid ({result.Diagnostics.Items.Count(d => d.Severity == Severity.Error)} error(s))");
                return ExitCode.Failure;
            }
            ConfigPlan plan;
            try
            {
                plan = ConfigPlan.Build(valid);
            }
            catch (FirewallCompileException e)
            {
                io.Error.WriteLine($"{path}: the firewall rules do not fit: {e.Message}");
                return ExitCode.Failure;
            }
            Print(io.Out, path, valid, plan);
            return ExitCode.Success;
        });
        return command;
    }

    private static void Print(TextWriter output, string path, AppConfig config, ConfigPlan plan)
    {
        output.WriteLine($"{path}: valid");
        foreach (var port in config.Ports)
        {
            var source = port.Interface ?? port.Pcap ?? "generated frames";
            // A port whose interface is missing here keeps a placeholder ifindex; the real one is known only where it runs.
            var ifindex = port.Interface is { } name && InterfaceLookup.Ifindex(name) is null ? "? (not on this machine)" : port.Ifindex.ToString(CultureInfo.InvariantCulture);
            output.WriteLine($"port {port.Name}  driver {port.Driver.ToString().ToLowerInvariant()}  {source}  ifindex {ifindex}  queues {port.Queues}  pass {port.Pass}");
        }
        output.WriteLine($"workers {config.Workers.Cpus.Count}  cpus {string.Join(",", config.Workers.Cpus)}");
        output.WriteLine($"prog {plan.Program}  from {plan.Source}{(config.Program.IsBuiltinFirewall ? $"  rules {plan.Rules}  default {Name(config.Firewall.DefaultAction)}  unparseable {Name(config.Firewall.UnparseableAction)}  non_ip {Name(config.Firewall.NonIpAction)}" : "")}");
        foreach (var map in plan.Maps)
        {
            var d = map.Definition;
            output.WriteLine($"map {d.Name}  type {d.Type.ToString()["BPF_MAP_TYPE_".Length..].ToLowerInvariant()}  max_entries {d.MaxEntries}  entries {map.Entries}");
        }
        output.WriteLine($"control {config.Control.Socket}");
        output.WriteLine($"logging {config.Logging.Level.ToString().ToLowerInvariant()}{(config.Logging.Json ? " json" : "")}");
    }

    private static string Name(FirewallAction action) => action.ToString().ToLowerInvariant();
}
