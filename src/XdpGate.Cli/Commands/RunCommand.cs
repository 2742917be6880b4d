using System.CommandLine;
using System.Runtime.InteropServices;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Drivers;
using XdpGate.Appliance.Drivers.Synthetic;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.AfPacket;

namespace XdpGate.Cli.Commands;

/// <summary>
/// `xdpgate run --config FILE | --demo` (<see cref="ConfigRun"/>), or `xdpgate run --iface IF [--iface IF2 ...]
/// --prog OBJ[:PROG] [--driver ...] [--workers N] [--pass host|IF] [--duration S] [--stats]`: the appliance without a config file. Runs until Ctrl+C or SIGTERM, the duration,
/// or the end of the traffic (a replayed capture, a synthetic --count), then closes every port and prints a summary.
/// </summary>
internal static class RunCommand
{
    public static Command Build(CliIo io)
    {
        var options = new RunOptions();
        var command = new Command("run", "Run an XDP program on ports: every frame through the program, every verdict carried out");
        options.AddTo(command);
        command.SetAction(async (parsed, cancellation) =>
        {
            if (options.ReadConfigRun(parsed) is { } configRun)
            {
                using var stop = new StopSignals(cancellation);
                return await ConfigRun.RunAsync(io, configRun, stop.Token).ConfigureAwait(false);
            }
            var setup = options.Read(parsed);
            using var signals = new StopSignals(cancellation);
            using var loaded = setup.Load();
            using var taps = new TapHostStacks();
            using var run = new DataplaneRun(setup.Driver, setup.Interfaces, loaded.Program, setup.Run, taps.For);
            io.Error.WriteLine($"running {loaded.Program.Name} on {string.Join(", ", run.Ports.Select(p => $"{p.Name} (ifindex {p.Ifindex})"))} "
                + $"with {setup.Run.Workers.Workers} worker(s), {setup.DriverName} driver, {EngineOption.Name(setup.Run.Workers.Engine)}; Ctrl+C stops");
            foreach (var (port, tap) in taps.Names)
                io.Error.WriteLine($"{port}: XDP_PASS goes to the host stack through TAP {tap}");
            foreach (var warning in run.Ports.Select(AfPacketPort.HostStackWarning).OfType<string>())
                io.Error.WriteLine($"warning: {warning}");
            Action<StatsSnapshot, StatsSnapshot>? print = setup.Stats
                ? (before, after) => { foreach (var line in StatsFormat.PerSecond(before, after)) io.Out.WriteLine(line); }
                : null;
            var summary = run.Run(signals.Token, print);
            foreach (var line in StatsFormat.Summary(summary))
                io.Out.WriteLine(line);
            return ExitCode.Success;
        });
        return command;
    }

    /// <summary>Ctrl+C and SIGTERM stop the run (cleanly: the ports are closed by the normal path).</summary>
    internal sealed class StopSignals : IDisposable
    {
        private readonly CancellationTokenSource source;
        private readonly PosixSignalRegistration[] registrations;

        public StopSignals(CancellationToken outer)
        {
            source = CancellationTokenSource.CreateLinkedTokenSource(outer);
            registrations = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM }.Select(signal => PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                source.Cancel();
            }))];
        }

        public CancellationToken Token => source.Token;

        public void Dispose()
        {
            foreach (var registration in registrations)
                registration.Dispose();
            source.Dispose();
        }
    }

}
