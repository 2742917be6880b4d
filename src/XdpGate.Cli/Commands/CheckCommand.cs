using System.CommandLine;
using System.Globalization;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.Service;

namespace XdpGate.Cli.Commands;

/// <summary>
/// `xdpgate check --config FILE`: validates a config without touching any interface, builds its program as `run`
/// would (opened, linked, verified, maps created and filled) and prints what that build produced.
/// </summary>
internal static class CheckCommand
{
    public static Command Build(CliIo io)
    {
        var config = new Option<string>("--config", "-c") { Description = "Appliance config (YAML)", Required = true };
        var requireInterfaces = new Option<bool>("--require-interfaces")
        {
            Description = "Interfaces missing on this machine are errors, as for run (by default they are warnings, so a config for another machine checks)",
        };
        var command = new Command("check", "Validate a config, build its program as run would, and print it: program, maps and entry counts; exit 0 only when valid") { config, requireInterfaces };
        command.SetAction(parsed =>
        {
            var path = parsed.GetValue(config)!;
            if (!File.Exists(path))
                throw new CliInputException($"{path}: no such file");
            var (built, diagnostics) = BuiltProgram.Read(path, requireInterfaces: parsed.GetValue(requireInterfaces));
            foreach (var diagnostic in diagnostics.Sorted())
                io.Error.WriteLine(diagnostic.Format(path));
            if (built is null)
            {
                io.Error.WriteLine($"{path}: invalid ({diagnostics.Items.Count(d => d.Severity == Severity.Error)} error(s))");
                return ExitCode.Failure;
            }
            using (built)
                Print(io.Out, path, built);
            return ExitCode.Success;
        });
        return command;
    }

    private static void Print(TextWriter output, string path, BuiltProgram built)
    {
        var config = built.Config;
        output.WriteLine($"{path}: valid");
        foreach (var port in config.Ports)
        {
            var frames = port.Interface ?? port.Pcap ?? "generated frames";
            // A port whose interface is missing here keeps a placeholder ifindex; the real one is known only where it runs.
            var ifindex = port.Interface is { } name && InterfaceLookup.Ifindex(name) is null ? "? (not on this machine)" : port.Ifindex.ToString(CultureInfo.InvariantCulture);
            output.WriteLine($"port {port.Name}  driver {port.Driver.ToString().ToLowerInvariant()}  {frames}  ifindex {ifindex}  queues {port.Queues}  pass {port.Pass}");
        }
        output.WriteLine($"workers {config.Workers.Cpus.Count}  cpus {string.Join(",", config.Workers.Cpus)}");
        var source = built.Builtin is { } builtin
            ? $"built-in {builtin.Builtin}{string.Concat(builtin.Settings.Select(s => $"  {s.Key} {s.Value}"))}"
            : config.Program.Object;
        var verification = built.Program.Verification;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"prog {built.Program.Name}  from {source}  insns {built.Program.Instructions.Count}  verified {verification.Level.ToString().ToLowerInvariant()} ({verification.InstructionsProcessed} insns processed)"));
        foreach (var (program, why) in built.ProgramsNotLoaded)
            output.WriteLine($"prog {program}  not loaded: {why}");
        foreach (var (map, entries) in built.Contents)
        {
            var d = map.Definition;
            output.WriteLine($"map {d.Name}  type {d.Type.ToString()["BPF_MAP_TYPE_".Length..].ToLowerInvariant()}  max_entries {d.MaxEntries}  entries {entries}");
        }
        output.WriteLine($"control {config.Control.Socket}");
        output.WriteLine($"logging {config.Logging.Level.ToString().ToLowerInvariant()}{(config.Logging.Json ? " json" : "")}");
    }
}
