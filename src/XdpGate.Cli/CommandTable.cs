using System.CommandLine;
using XdpGate.Appliance.Control;
using XdpGate.Appliance.PcapFiles;
using XdpGate.Bpf;
using XdpGate.Cli.Commands;

namespace XdpGate.Cli;

/// <summary>
/// Every `xdpgate` command, in bpftool's shape (`xdpgate OBJECT VERB`). Commands only parse arguments, call the
/// libraries and print; errors in the input become a message on stderr and exit status 1.
/// </summary>
public static class CommandTable
{
    public static int Run(string[] args, CliIo io)
    {
        ArgumentNullException.ThrowIfNull(io);
        var root = new RootCommand("XdpGate: XDP programs in user space, at kernel speed")
        {
            ProgCommands.Build(io),
            VmCommands.Build(io),
            AsmCommands.BuildAssemble(io),
            AsmCommands.BuildDisassemble(io),
            CheckCommand.Build(io),
            RunCommand.Build(io),
            GenCommand.Build(io),
            BenchCommand.Build(io),
        };
        foreach (var command in ControlCommands.Build(io))
            root.Subcommands.Add(command);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
                io.Error.WriteLine($"error: {error.Message}");
            io.Error.WriteLine("Run 'xdpgate --help' for usage.");
            return ExitCode.Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = io.Out, Error = io.Error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is BpfLoadException or CliInputException or PcapFormatException or ControlRequestException or ArgumentException or IOException
            or UnauthorizedAccessException or InvalidOperationException or Linux.SyscallException)
        {
            io.Error.WriteLine($"error: {e.Message}");
            return ExitCode.Failure;
        }
    }
}

/// <summary>Input given to a command that it cannot use (a file that is not hex, a missing file); the message says why.</summary>
public sealed class CliInputException(string message) : Exception(message);
