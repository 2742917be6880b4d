using System.Diagnostics;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.Dataplane;

namespace XdpGate.Appliance.Service;

/// <summary>
/// The appliance as a config file describes it: its ports opened, one worker per configured CPU, its program built,
/// and reloads that swap the program between batches. A reload reads, validates, compiles and loads the new config
/// completely first; any failure leaves the running program serving and is returned (and logged). On success the
/// new plan is published in one reference write (<see cref="ProgramSlot"/>), the old program's maps are freed once
/// no worker and no control request can still use them, and the counters of unchanged rules carry over.
/// </summary>
public sealed partial class RunningAppliance : IDisposable
{
    /// <summary>How long a reload waits for every worker to leave the old program before it gives up freeing it.</summary>
    public static readonly TimeSpan QuiescenceTimeout = TimeSpan.FromSeconds(10);

    private readonly ApplianceOptions options;
    private readonly ConfiguredPorts ports;
    private readonly WorkerPool pool;
    private readonly ProgramSlot slot;
    private readonly int possibleCpus;
    private readonly object reloadGate = new();
    private readonly Stopwatch uptime = Stopwatch.StartNew();
    private volatile Serving serving;
    private long reloads;
    private long reloadFailures;

    /// <summary>The program serving now, with the counters earlier programs left it, and the plan version it runs as.</summary>
    private sealed record Serving(BuiltProgram Program, CarriedCounters Carried, long Version);

    /// <summary>Builds everything a valid config describes; the workers start with <see cref="Start"/>.</summary>
    /// <exception cref="ConfigBuildException">The program or a port cannot be set up.</exception>
    public RunningAppliance(AppConfig config, ApplianceOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        this.options = options;
        var workers = config.Workers.Cpus.Count;
        possibleCpus = Math.Max(workers, Environment.ProcessorCount);
        var program = BuiltProgram.Build(config, possibleCpus);
        try
        {
            ports = new ConfiguredPorts(config, workers, options);
            try
            {
                slot = new ProgramSlot(new ProgramPlan(program.Program, options.Engine, 1, workers));
                var workerOptions = new WorkerOptions
                {
                    Workers = workers,
                    Cpus = options.Pin ? config.Workers.Cpus : null,
                    BatchSize = options.BatchSize,
                    Idle = options.Idle,
                    Engine = options.Engine,
                };
                pool = new WorkerPool(ports.Ports, slot, workerOptions, ports.PassTargets(options.HostStack));
            }
            catch
            {
                ports.Dispose();
                throw;
            }
        }
        catch
        {
            program.Dispose();
            throw;
        }
        serving = new Serving(program, CarriedCounters.None(program), 1);
    }

    /// <summary>Reads and validates <paramref name="path"/>, then builds the appliance it describes (not started).</summary>
    /// <exception cref="ConfigBuildException">The config is invalid (every error, as FILE:LINE:COL) or cannot be set up.</exception>
    public static RunningAppliance FromFile(string path, ApplianceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RunningAppliance(Read(path, options), options);
    }

    public AppConfig Config => serving.Program.Config;

    public IReadOnlyList<Ports.IPort> Ports => ports.Ports;

    public WorkerPool Pool => pool;

    /// <summary>The version of the program the workers are told to run: 1 at start, one more per successful reload.</summary>
    public long Version => serving.Version;

    public void Start() => pool.Start();

    /// <summary>
    /// Runs the started workers until <paramref name="cancel"/> or <paramref name="duration"/>, calling
    /// <paramref name="everySecond"/> with each second's counters, then stops them. Unlike a run without a config,
    /// the end of a replayed capture does not end it: the control socket keeps serving the final counters.
    /// </summary>
    public RunSummary RunUntil(CancellationToken cancel, TimeSpan? duration, Action<StatsSnapshot, StatsSnapshot>? everySecond = null)
    {
        var clock = Stopwatch.StartNew();
        var previous = pool.Snapshot();
        var ended = false;
        while (!cancel.IsCancellationRequested)
        {
            var left = duration is { } d ? d - clock.Elapsed : TimeSpan.FromSeconds(1);
            if (left <= TimeSpan.Zero)
                break;
            cancel.WaitHandle.WaitOne(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
            if (everySecond is not null && !ended)
            {
                var now = pool.Snapshot();
                everySecond(previous, now);
                previous = now;
            }
            if (!ended && pool.Completed)
            {
                ended = true;
                options.Log?.Invoke(LogLevel.Info, "every port's traffic has ended; still serving until stopped");
            }
        }
        pool.RequestStop();
        if (!pool.Join(TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException("the workers did not stop within 10 seconds of being asked");
        return new RunSummary(pool.Snapshot(), clock.Elapsed, [.. pool.Workers.Select(w => w.Vm.LastFault)]);
    }

    /// <summary>Reloads the config file it was started from; null when the new config serves, else why the old one still does.</summary>
    public string? Reload()
    {
        lock (reloadGate)
        {
            var old = serving;
            BuiltProgram next;
            ProgramPlan plan;
            try
            {
                var config = Read(old.Program.Config.Path, options);
                RequireSameShape(old.Program.Config, config);
                next = BuiltProgram.Build(config, possibleCpus, old.Program);
                try
                {
                    plan = new ProgramPlan(next.Program, options.Engine, old.Version + 1, config.Workers.Cpus.Count);
                }
                catch
                {
                    next.Dispose();
                    throw;
                }
            }
            catch (Exception e) when (e is ConfigBuildException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                Interlocked.Increment(ref reloadFailures);
                options.Log?.Invoke(LogLevel.Error, $"reload failed, the running config keeps serving: {e.Message}");
                return e.Message;
            }
            slot.Publish(plan);
            var quiet = pool.WaitForPlan(plan.Version, QuiescenceTimeout);
            var carried = old.Carried.Carry(old.Program, next);
            serving = new Serving(next, carried, plan.Version);
            if (quiet)
                Retire(old.Program);
            else
                options.Log?.Invoke(LogLevel.Warning, $"a worker did not leave program version {old.Version} within {QuiescenceTimeout.TotalSeconds} s; its maps stay allocated");
            Interlocked.Increment(ref reloads);
            options.Log?.Invoke(LogLevel.Info, $"reloaded {next.Config.Path}: {Describe(next)}, now version {plan.Version}");
            return null;
        }
    }

    /// <summary>One line on what a program is: "built-in firewall, 5 rules (default pass)" or the object and program.</summary>
    public static string Describe(BuiltProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var config = program.Config;
        return program.IsFirewall
            ? $"built-in firewall, {config.Firewall.Rules.Count} rule(s), default {config.Firewall.DefaultAction.ToString().ToLowerInvariant()}"
            : $"{config.Program.Object} program {program.Program.Name}, {program.Loaded.Maps.Count} map(s)"
                + (program.Loaded.Kept.Count > 0 ? $" ({string.Join(", ", program.Loaded.Kept)} kept from the previous program)" : "");
    }

    public string DescribeProgram() => Describe(serving.Program);

    private static AppConfig Read(string path, ApplianceOptions options)
    {
        var result = ConfigReader.ReadFile(path, options.Interfaces);
        foreach (var warning in result.Diagnostics.Sorted().Where(d => d.Severity == Severity.Warning))
            options.Log?.Invoke(LogLevel.Warning, warning.Format(path));
        if (result.Config is { } config)
            return config;
        throw new ConfigBuildException(string.Join(Environment.NewLine, result.Diagnostics.Sorted().Where(d => d.Severity == Severity.Error).Select(d => d.Format(path))));
    }

    /// <summary>Ports, workers and the control socket are set up once per run; a reload swaps only the program and its rules.</summary>
    private static void RequireSameShape(AppConfig running, AppConfig next)
    {
        // Workers first: they set every port's queue count, so a change of workers changes the ports too.
        if (!running.Workers.Cpus.SequenceEqual(next.Workers.Cpus))
            throw new ConfigBuildException($"{next.Path}: the workers differ from the running config's; a reload changes only the program and rules (restart to change workers)");
        if (!running.Ports.SequenceEqual(next.Ports))
            throw new ConfigBuildException($"{next.Path}: the ports differ from the running config's; a reload changes only the program and rules (restart to change ports)");
        if (running.Control != next.Control)
            throw new ConfigBuildException($"{next.Path}: the control socket differs from the running config's (restart to move it)");
    }

    private bool disposed;

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        pool.Dispose();
        ports.Dispose();
        lock (retireGate)
        {
            foreach (var program in retired)
                program.Dispose();
            retired.Clear();
        }
        serving.Program.Dispose();
    }
}
