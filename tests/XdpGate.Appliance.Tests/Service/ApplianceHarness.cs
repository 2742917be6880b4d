using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Service;
using XdpGate.Bpf.Execution;

namespace XdpGate.Appliance.Tests.Service;

/// <summary>
/// An appliance run from a config file in a temporary directory, its two synthetic ports ("in", passing to "out",
/// and "out") replaced by a <see cref="FlowSourcePort"/> and a <see cref="CountingPort"/>. The config can be
/// rewritten and reloaded; disposing stops everything and removes the directory.
/// </summary>
internal sealed class ApplianceHarness : IDisposable
{
    public const string Ports = """
        ports:
          - name: in
            driver: synthetic
            pass: out
          - name: out
            driver: synthetic
            pass: in
        """;

    private readonly DirectoryInfo temp = System.IO.Directory.CreateTempSubdirectory("xdpgate-appliance-");
    private readonly List<string> log = [];

    public ApplianceHarness(string firewall, int workers = 1, ExecutionEngine engine = ExecutionEngine.Interpreter)
    {
        ConfigPath = Path.Combine(temp.FullName, "appliance.yaml");
        Write(firewall, workers);
        var options = new ApplianceOptions
        {
            Workers = new WorkerOptions { Engine = engine, Pin = false, Idle = IdleMode.BusyPoll },
            WatchConfig = false,
            Log = (level, message) => { lock (log) log.Add($"{level}: {message}"); },
            OpenPort = (port, portOptions) => port.Name == "in"
                ? Source = new FlowSourcePort(port.Name, (int)port.Ifindex, portOptions.Queues)
                : Sink = new CountingPort(port.Name, (int)port.Ifindex, portOptions.Queues),
        };
        Appliance = RunningAppliance.FromFile(ConfigPath, options);
    }

    public string ConfigPath { get; }
    public RunningAppliance Appliance { get; }
    public FlowSourcePort Source { get; private set; } = null!;
    public CountingPort Sink { get; private set; } = null!;
    public string Directory => temp.FullName;

    public IReadOnlyList<string> Log
    {
        get
        {
            lock (log)
                return [.. log];
        }
    }

    /// <summary>Writes the config: the two ports, the workers, and <paramref name="firewall"/> (a `firewall:` section, or any other YAML).</summary>
    public void Write(string firewall, int workers = 1) =>
        File.WriteAllText(ConfigPath, $"{Ports}\nworkers: {workers}\ncontrol:\n  socket: {Path.Combine(temp.FullName, "control.sock")}\n{firewall}\n");

    /// <summary>Stops the source, lets the workers drain it and stop.</summary>
    public void StopTraffic()
    {
        Source.Stop();
        if (!Appliance.Pool.Join(TimeSpan.FromSeconds(10)))
            throw new TimeoutException("the workers did not finish within 10 s of the traffic's end");
    }

    public void Dispose()
    {
        Appliance.Dispose();
        temp.Delete(recursive: true);
    }
}

/// <summary>The rules of an appliance running the built-in firewall, with their counters.</summary>
internal static class FirewallRules
{
    public static IReadOnlyList<RuleStatus> Rules(this RunningAppliance appliance) => ((FirewallControl)appliance.Builtin!).Rules();
}
