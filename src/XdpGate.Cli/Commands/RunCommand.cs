using System.CommandLine;
using System.Runtime.InteropServices;

namespace XdpGate.Cli.Commands;

/// <summary>
/// `xdpgate run --config FILE | --demo`, or `xdpgate run --iface IF [--iface IF2 ...] --prog OBJ[:PROG] [--driver ...]
/// [--workers N] [--pass host|IF]`: the appliance a config describes, or the one the flags describe, run the same way
/// (<see cref="ApplianceRun"/>) until Ctrl+C or SIGTERM, the duration, or (without a config file) the end of the
/// traffic (a replayed capture, a synthetic --count); then every port is closed and a summary printed.
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
            var setup = options.Read(parsed);
            using var stop = new StopSignals(cancellation);
            return await ApplianceRun.RunAsync(io, setup, stop.Token).ConfigureAwait(false);
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
