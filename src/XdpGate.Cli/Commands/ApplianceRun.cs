using System.Globalization;
using System.Runtime.InteropServices;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.Control;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.AfPacket;
using XdpGate.Appliance.Service;

namespace XdpGate.Cli.Commands;

/// <summary>
/// `xdpgate run`, whatever gave the config (a file, the demo, flags): logs what it set up, serves the control socket
/// (the config's, or `--control`), reloads a config file on SIGHUP, on a change of the file and on `xdpgate reload`,
/// and stops on Ctrl+C, SIGTERM, the duration or (without a file) the end of the traffic, closing every port
/// (detaching from interfaces), TAP device and the socket.
/// </summary>
internal static class ApplianceRun
{
    public static async Task<int> RunAsync(CliIo io, RunSetup setup, CancellationToken stop)
    {
        using var demo = setup.IsDemo ? new EmbeddedDemo() : null;
        var path = setup.ConfigPath ?? demo?.ConfigPath;
        var log = new ApplianceLog(io.Error);
        using var taps = new TapHostStacks();
        var options = setup.Options with { Log = log.Write, HostStack = taps.For };
        RunningAppliance appliance;
        try
        {
            appliance = path is null ? RunningAppliance.Create(setup.Config!, options) : RunningAppliance.FromFile(path, options);
        }
        catch (ConfigBuildException e)
        {
            io.Error.WriteLine(e.Message);
            return ExitCode.Failure;
        }
        using (appliance)
        {
            log.Settings = () => appliance.Config.Logging;
            Describe(log, appliance, taps, setup.IsDemo, options.Workers);
            var socket = options.ControlSocket ?? appliance.Config.Control.Socket;
            await using var control = socket.Length == 0 ? null : ControlServer.Start(socket, appliance);
            if (control is not null)
                log.Write(LogLevel.Info, $"control socket {socket} (xdpgate {string.Join("|", ["status", "stats", .. appliance.BuiltinVerbs, "map", "reload"])} --control {socket})");
            string? Reload(string why)
            {
                log.Write(LogLevel.Info, $"reloading {appliance.Config.Origin} ({why})");
                return appliance.Reload();
            }
            using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                _ = Task.Run(() => Reload("SIGHUP"));
            });
            using var watcher = path is not null && options.WatchConfig ? new ConfigWatcher(path, options.WatchDebounce, () => Reload("the file changed")) : null;
            appliance.Start();
            var until = setup.Duration is { } d ? $" for {d.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s" : "";
            var ends = path is null ? ", as does the end of every port's traffic" : ", SIGHUP reloads";
            log.Write(LogLevel.Info, $"running{until}; Ctrl+C or SIGTERM stops{ends}");
            Action<StatsSnapshot, StatsSnapshot>? print = setup.Stats
                ? (before, after) => { foreach (var line in StatsFormat.PerSecond(before, after)) io.Out.WriteLine(line); }
                : null;
            var summary = appliance.RunUntil(stop, setup.Duration, print);
            foreach (var line in StatsFormat.Summary(summary))
                io.Out.WriteLine(line);
            foreach (var line in appliance.Builtin?.Report() ?? [])
                io.Out.WriteLine(line);
            log.Write(LogLevel.Info, "stopped; ports closed");
        }
        return ExitCode.Success;
    }

    private static void Describe(ApplianceLog log, RunningAppliance appliance, TapHostStacks taps, bool isDemo, WorkerOptions workers)
    {
        var config = appliance.Config;
        log.Write(LogLevel.Info, $"config {(isDemo ? "built-in demo" : config.Origin)}: {appliance.DescribeProgram()}, {appliance.Pool.Workers.Count} worker(s), {EngineOption.Name(workers.Engine)}");
        for (var p = 0; p < config.Ports.Count; p++)
        {
            var port = config.Ports[p];
            var where = port.Driver switch
            {
                PortDriver.Pcap => $"replaying {port.Pcap}",
                PortDriver.Synthetic => "generated traffic",
                _ => $"interface {port.Interface}",
            };
            log.Write(LogLevel.Info, $"port {port.Name}: {port.Driver.ToString().ToLowerInvariant()} {where}, ifindex {appliance.Ports[p].Ifindex}, XDP_PASS to {port.Pass}");
        }
        foreach (var (port, tap) in taps.Names)
            log.Write(LogLevel.Info, $"{port}: the host stack is TAP {tap}");
        foreach (var warning in appliance.Ports.Select(AfPacketPort.HostStackWarning).OfType<string>())
            log.Write(LogLevel.Warning, warning);
    }
}
