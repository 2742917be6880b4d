using System.Diagnostics;
using XdpGate.Appliance.Builtins;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.Dataplane;

namespace XdpGate.Appliance.Service;

/// <summary>
/// The appliance as a config describes it, from a file or from `run` flags: its program built
/// (<see cref="BuiltProgram"/>), its ports opened (<see cref="ConfiguredPorts"/>), one worker per configured CPU, and
/// reloads that swap the program between batches. A reload reads, validates and builds the new config completely
/// first; any failure leaves the running program serving and is returned (and logged). On success the new plan is
/// published in one reference write (<see cref="ProgramSlot"/>), the old program's maps are freed once no worker and
/// no control request can still use them, and a built-in carries on what it keeps across programs (the firewall's
/// counters of unchanged rules).
/// </summary>
public sealed partial class RunningAppliance : IDisposable
{
    /// <summary>How long a reload waits for every worker to leave the old program before it gives up freeing it.</summary>
    public static readonly TimeSpan QuiescenceTimeout = TimeSpan.FromSeconds(10);

    private readonly ApplianceOptions options;
    private readonly ConfiguredPorts ports;
    private readonly WorkerPool pool;
    private readonly ProgramSlot slot;
    private readonly object reloadGate = new();
    private readonly Stopwatch uptime = Stopwatch.StartNew();
    private volatile Serving serving;
    private long reloads;
    private long reloadFailures;

    /// <summary>The program serving now, its built-in's control (null for an object), and the plan version it runs as.</summary>
    private sealed record Serving(BuiltProgram Program, IBuiltinControl? Builtin, long Version);

    /// <summary>Sets up the ports and workers of <paramref name="program"/>'s config to run it (not started); owns the program from here.</summary>
    /// <exception cref="ConfigBuildException">A port or the workers cannot be set up.</exception>
    public RunningAppliance(BuiltProgram program, ApplianceOptions options)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(options);
        this.options = options;
        var config = program.Config;
        try
        {
            ports = new ConfiguredPorts(config, options);
            try
            {
                slot = new ProgramSlot(new ProgramPlan(program.Program, options.Workers.Engine, 1, config.Workers.Cpus.Count));
                pool = new WorkerPool(ports.Ports, slot, config.Workers.Cpus, options.Workers, ports.PassTargets(options.HostStack));
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
        serving = new Serving(program, program.Builtin?.Serve(program.Maps, null), 1);
    }

    /// <summary>Builds the program of a valid config (a file's, or one made from flags), then the appliance that runs it (not started).</summary>
    /// <exception cref="ConfigBuildException">The program (every problem, as FILE:LINE:COL), a port or the workers cannot be set up.</exception>
    public static RunningAppliance Create(AppConfig config, ApplianceOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        var diagnostics = new ConfigDiagnostics();
        var program = BuiltProgram.Build(config, diagnostics) ?? throw new ConfigBuildException(diagnostics.Errors(config.Path));
        return new RunningAppliance(program, options);
    }

    /// <summary>Reads and validates <paramref name="path"/>, then builds the appliance it describes (not started).</summary>
    /// <exception cref="ConfigBuildException">The config is invalid (every error, as FILE:LINE:COL) or cannot be set up.</exception>
    public static RunningAppliance FromFile(string path, ApplianceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Create(Read(path, options), options);
    }

    public AppConfig Config => serving.Program.Config;

    public IReadOnlyList<Ports.IPort> Ports => ports.Ports;

    public WorkerPool Pool => pool;

    /// <summary>The serving built-in's control (the firewall's rules and counters); null when the program is an object.</summary>
    public IBuiltinControl? Builtin => serving.Builtin;

    /// <summary>The version of the program the workers are told to run: 1 at start, one more per successful reload.</summary>
    public long Version => serving.Version;

    public void Start() => pool.Start();

    /// <summary>
    /// Runs the started workers until <paramref name="cancel"/>, <paramref name="duration"/> or, with
    /// <see cref="ApplianceOptions.StopWhenTrafficEnds"/>, the end of every port's traffic, calling
    /// <paramref name="everySecond"/> with each second's counters until the traffic ends; then stops them. Otherwise the
    /// end of a replayed capture does not end the run: the control socket keeps serving the final counters.
    /// </summary>
    public RunSummary RunUntil(CancellationToken cancel, TimeSpan? duration, Action<StatsSnapshot, StatsSnapshot>? everySecond = null)
    {
        var clock = Stopwatch.StartNew();
        var previous = pool.Snapshot();
        var ended = false;
        while (!cancel.IsCancellationRequested && !(ended && options.StopWhenTrafficEnds))
        {
            var left = duration is { } d ? d - clock.Elapsed : TimeSpan.FromSeconds(1);
            if (left <= TimeSpan.Zero)
                break;
            WaitForStep(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), cancel);
            if (everySecond is not null && !ended)
            {
                var now = pool.Snapshot();
                everySecond(previous, now);
                previous = now;
            }
            if (!ended && pool.Completed)
            {
                ended = true;
                if (!options.StopWhenTrafficEnds)
                    options.Log?.Invoke(LogLevel.Info, "every port's traffic has ended; still serving until stopped");
            }
        }
        pool.RequestStop();
        if (!pool.Join(TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException("the workers did not stop within 10 seconds of being asked");
        clock.Stop();
        return new RunSummary(pool.Snapshot(), clock.Elapsed, [.. pool.Workers.Select(w => w.Vm.LastFault)]);
    }

    /// <summary>Waits <paramref name="step"/>; wakes early on cancellation and, when the run ends with its traffic, once the workers finish.</summary>
    private void WaitForStep(TimeSpan step, CancellationToken cancel)
    {
        if (!options.StopWhenTrafficEnds)
        {
            cancel.WaitHandle.WaitOne(step);
            return;
        }
        var until = Stopwatch.GetTimestamp() + (long)(step.TotalSeconds * Stopwatch.Frequency);
        while (!pool.Completed && !cancel.IsCancellationRequested && Stopwatch.GetTimestamp() < until)
            cancel.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(20));
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
                var path = old.Program.Config.Path
                    ?? throw new ConfigBuildException("this appliance runs a config made from command-line flags; there is no file to reload");
                var config = Read(path, options);
                RequireSameShape(old.Program.Config, config);
                var diagnostics = new ConfigDiagnostics();
                next = BuiltProgram.Build(config, diagnostics, old.Program) ?? throw new ConfigBuildException(diagnostics.Errors(path));
                try
                {
                    plan = new ProgramPlan(next.Program, options.Workers.Engine, old.Version + 1, config.Workers.Cpus.Count);
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
            serving = new Serving(next, next.Builtin?.Serve(next.Maps, old.Builtin), plan.Version);
            if (quiet)
                Retire(old.Program);
            else
                options.Log?.Invoke(LogLevel.Warning, $"a worker did not leave program version {old.Version} within {QuiescenceTimeout.TotalSeconds} s; its maps stay allocated");
            Interlocked.Increment(ref reloads);
            options.Log?.Invoke(LogLevel.Info, $"reloaded {next.Config.Origin}: {Describe(next)}, now version {plan.Version}");
            return null;
        }
    }

    /// <summary>One line on what a program is: "built-in firewall: rules 5, default pass, ..." or the object, program and maps.</summary>
    public static string Describe(BuiltProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (program.Builtin is { } builtin)
            return $"built-in {builtin.Builtin}: {string.Join(", ", builtin.Settings.Select(s => $"{s.Key} {s.Value}"))}";
        var source = program.Config.Program.Object is { } path ? $"{path} program " : "program ";
        return $"{source}{program.Program.Name}, {program.Maps.Count} map(s)"
            + (program.Kept.Count > 0 ? $" ({string.Join(", ", program.Kept)} kept from the previous program)" : "");
    }

    public string DescribeProgram() => Describe(serving.Program);

    private static AppConfig Read(string path, ApplianceOptions options)
    {
        var result = ConfigReader.ReadFile(path, options.Interfaces);
        foreach (var warning in result.Diagnostics.Sorted().Where(d => d.Severity == Severity.Warning))
            options.Log?.Invoke(LogLevel.Warning, warning.Format(path));
        return result.Config ?? throw new ConfigBuildException(result.Diagnostics.Errors(path));
    }

    /// <summary>Ports, workers and the control socket are set up once per run; a reload swaps only the program and its settings.</summary>
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
