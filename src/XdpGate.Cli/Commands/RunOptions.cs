using System.CommandLine;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports.Synthetic;
using XdpGate.Appliance.Objects;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Service;

namespace XdpGate.Cli.Commands;

/// <summary>The options of `run`: a config file, or ports, program and workers; how to run; each driver's own settings.</summary>
internal sealed class RunOptions
{
    public static readonly string[] Drivers = ["afxdp", "afpacket", "synthetic", "pcap"];

    private readonly Option<string[]> iface = new("--iface", "-i")
    {
        Description = "A port: an interface (afxdp, afpacket), a generator's name (synthetic) or a capture file (pcap); repeat for more",
        AllowMultipleArgumentsPerToken = false,
    };
    private readonly Option<string> prog = new("--prog") { Description = "OBJ[:PROGNAME]: a clang-built object (or .c file) and the program in it (default: the first)" };
    private readonly Option<string> driver = new("--driver", "-d") { Description = "Ports: afxdp (AF_XDP sockets), afpacket (TPACKET_V3 rings), synthetic (built-in generator) or pcap (replay captures)", DefaultValueFactory = _ => "afxdp" };
    private readonly Option<int> workers = new("--workers", "-w") { Description = "Worker threads, one queue of every port each", DefaultValueFactory = _ => 1 };
    private readonly Option<string?> cpus = new("--cpus") { Description = "CPUs to pin the workers to, as a list (0,1 or 0-3); default: worker w on CPU w" };
    private readonly Option<bool> noPin = new("--no-pin") { Description = "Do not pin workers to CPUs" };
    private readonly Option<string> pass = new("--pass") { Description = "Where XDP_PASS frames go: host (the port's host stack) or a port's name (inline pair)", DefaultValueFactory = _ => PortConfig.HostPass };
    private readonly Option<double?> duration = new("--duration") { Description = "Stop after this many seconds" };
    private readonly Option<bool> stats = new("--stats", "-s") { Description = "Print each port's rates once a second" };
    private readonly Option<string> engine = EngineOption.Create();
    private readonly Option<int> batch = new("--batch") { Description = "Frames taken from a queue per poll", DefaultValueFactory = _ => 64 };
    private readonly Option<bool> busyPoll = new("--busy-poll") { Description = "Spin on idle queues instead of sleeping in poll()" };
    private readonly Option<string?> mapsInit = new("--maps-init") { Description = "JSON map contents to set before the first frame (as for prog run)" };
    private readonly Option<string[]> rodata = RodataOption.Create();
    private readonly Option<int> size = new("--size") { Description = "synthetic: frame size in bytes without FCS", DefaultValueFactory = _ => 60 };
    private readonly Option<int> flows = new("--flows") { Description = "synthetic: flows (source addresses 198.18.0.1 and up)", DefaultValueFactory = _ => 1 };
    private readonly Option<long> rate = new("--rate") { Description = "synthetic: frames per second per port (0: as fast as the workers go)" };
    private readonly Option<long?> count = new("--count", "-n") { Description = "synthetic: frames per port, then the port ends" };
    private readonly Option<string?> pcapOut = new("--pcap-out") { Description = "pcap: directory for NAME.tx.pcap (frames sent out of each port) and NAME.pass.pcap (passed to its host stack)" };

    private readonly Option<string?> config = new("--config", "-c") { Description = "Run the appliance a config file describes (ports, workers, program, rules); see configs/reference.yaml" };
    private readonly Option<bool> demo = new("--demo") { Description = "Run the built-in demo config (configs/demo.yaml: a capture through the firewall; no root, no NIC)" };
    private readonly Option<string?> control = new("--control") { Description = "Serve the control socket here (with --config: instead of the config's control.socket; without: none unless given)" };
    private readonly Option<bool> noControl = new("--no-control") { Description = "With --config: serve no control socket" };
    private readonly Option<bool> noWatch = new("--no-watch") { Description = "With --config: do not reload when the config file changes (SIGHUP and `xdpgate reload` still do)" };

    public void AddTo(Command command)
    {
        driver.AcceptOnlyFromAmong(Drivers);
        foreach (var option in new Option[] { config, demo, control, noControl, noWatch, iface, prog, driver, workers, cpus, noPin, pass, duration, stats, engine, batch, busyPoll, mapsInit, rodata, size, flows, rate, count, pcapOut })
            command.Options.Add(option);
    }

    /// <summary>
    /// The run asked for: a config file (`--config FILE`), the embedded demo (`--demo`), or ports and a program named
    /// by flags (`--iface ... --prog ...`), turned into the same in-memory config; all run the same way.
    /// </summary>
    public RunSetup Read(ParseResult parsed)
    {
        var path = parsed.GetValue(config);
        var isDemo = parsed.GetValue(demo);
        if (path is not null && isDemo)
            throw new CliInputException("--config and --demo exclude each other (--demo is the built-in demo config)");
        var fromFile = path is not null || isDemo;
        if (fromFile)
        {
            foreach (var other in new Option[] { iface, prog, driver, workers, cpus, pass, mapsInit, rodata })
            {
                if (parsed.GetResult(other) is { Implicit: false })
                    throw new CliInputException($"{other.Name} is for runs without a config; with {(isDemo ? "--demo" : "--config")} the config says it (ports, program, workers)");
            }
        }
        else
        {
            foreach (var only in new Option[] { noControl, noWatch })
            {
                if (parsed.GetResult(only) is { Implicit: false })
                    throw new CliInputException($"{only.Name} goes with --config or --demo");
            }
        }
        var seconds = parsed.GetValue(duration);
        if (seconds is <= 0)
            throw new CliInputException($"--duration {seconds}: must be positive");
        var batchSize = parsed.GetValue(batch);
        if (batchSize < 1)
            throw new CliInputException($"--batch {batchSize}: at least one frame");
        var controlPath = parsed.GetValue(noControl) ? "" : parsed.GetValue(control);
        if (parsed.GetValue(noControl) && parsed.GetResult(control) is { Implicit: false })
            throw new CliInputException("--control and --no-control exclude each other");
        var options = new ApplianceOptions
        {
            Workers = new WorkerOptions
            {
                Engine = EngineOption.Parse(parsed.GetValue(engine)),
                Idle = parsed.GetValue(busyPoll) ? IdleMode.BusyPoll : IdleMode.Wait,
                BatchSize = batchSize,
                Pin = !parsed.GetValue(noPin),
            },
            Ports = new PortOptions { BusyPoll = parsed.GetValue(busyPoll) },
            Synthetic = Traffic(parsed),
            PcapOutput = parsed.GetValue(pcapOut),
            ControlSocket = controlPath,
            WatchConfig = !parsed.GetValue(noWatch),
            // A run without a config file ends with its traffic; a config's serves its control socket until stopped.
            StopWhenTrafficEnds = !fromFile,
        };
        return new RunSetup(path is null ? null : InputFiles.Require(path), isDemo, fromFile ? null : FlagConfig(parsed),
            seconds is { } s ? TimeSpan.FromSeconds(s) : null, parsed.GetValue(stats), options);
    }

    /// <summary>The config of `--iface ... --prog ...`: ports, workers and program as the flags give them.</summary>
    private AppConfig FlagConfig(ParseResult parsed)
    {
        if (parsed.GetValue(iface) is not { Length: > 0 } interfaces || parsed.GetValue(prog) is not { } spec)
            throw new CliInputException("run needs --config FILE (or --demo for the built-in demo), or --iface IF and --prog OBJ");
        var workerCount = parsed.GetValue(workers);
        if (workerCount < 1)
            throw new CliInputException($"--workers {workerCount}: at least one");
        var (path, name) = SplitProgram(spec);
        var program = ProgramConfig.ForObject(InputFiles.Require(path)) with
        {
            Name = name,
            MapsFile = parsed.GetValue(mapsInit) is { } maps ? Path.GetFullPath(InputFiles.Require(maps)) : null,
        };
        try
        {
            program = program with { Rodata = [.. (parsed.GetValue(rodata) ?? []).Select(RodataValues.Split).Select(a => new RodataSetting(a.Name, a.Value))] };
        }
        catch (FormatException e)
        {
            throw new CliInputException(e.Message);
        }
        var result = CommandLineConfig.Create(Enum.Parse<PortDriver>(parsed.GetValue(driver)!, ignoreCase: true), interfaces, parsed.GetValue(pass)!,
            new WorkersConfig(Cpus(parsed.GetValue(cpus), workerCount)), program, parsed.GetValue(control) is { } socket ? new ControlConfig(socket) : null);
        return result.Config
            ?? throw new CliInputException(string.Join(Environment.NewLine, result.Diagnostics.Items.Where(d => d.Severity == Severity.Error).Select(d => d.Message)));
    }

    /// <summary>OBJ or OBJ:PROGNAME; a path that exists as given is never split (it may hold a colon).</summary>
    private static (string Path, string? Name) SplitProgram(string spec)
    {
        var colon = spec.LastIndexOf(':');
        if (File.Exists(spec) || colon <= 0 || colon == spec.Length - 1)
            return (spec, null);
        return (spec[..colon], spec[(colon + 1)..]);
    }

    private SyntheticTraffic Traffic(ParseResult parsed)
    {
        var traffic = new SyntheticTraffic { Size = parsed.GetValue(size), Flows = parsed.GetValue(flows), Rate = parsed.GetValue(rate), Count = parsed.GetValue(count) };
        try
        {
            traffic.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliInputException(e.Message);
        }
        return traffic;
    }

    /// <summary>The CPU of each worker: from a cpulist, or worker w on CPU w (wrapping on machines with fewer CPUs).</summary>
    private static int[] Cpus(string? list, int workerCount)
    {
        if (list is null)
            return [.. Enumerable.Range(0, workerCount).Select(w => w % Environment.ProcessorCount)];
        var cpus = new List<int>();
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var range = part.Split('-');
            if (range.Length > 2 || !range.All(r => int.TryParse(r, out var cpu) && cpu >= 0))
                throw new CliInputException($"--cpus {list}: '{part}' is not a CPU or a range like 0-3");
            var first = int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
            var last = int.Parse(range[^1], System.Globalization.CultureInfo.InvariantCulture);
            if (last < first)
                throw new CliInputException($"--cpus {list}: range '{part}' runs backwards");
            cpus.AddRange(Enumerable.Range(first, last - first + 1));
        }
        if (cpus.Count < workerCount)
            throw new CliInputException($"--cpus {list}: {cpus.Count} CPU(s) for {workerCount} workers");
        return [.. cpus.Take(workerCount)];
    }
}

/// <summary>
/// A parsed `run`: a config file (<see cref="ConfigPath"/>), the embedded demo, or the config the flags make
/// (<see cref="Config"/>); how long, whether to print rates, and how to run.
/// </summary>
internal sealed record RunSetup(string? ConfigPath, bool IsDemo, AppConfig? Config, TimeSpan? Duration, bool Stats, ApplianceOptions Options);
