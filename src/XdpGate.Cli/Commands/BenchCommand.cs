using System.CommandLine;
using System.Globalization;
using XdpGate.Appliance.Bench;
using XdpGate.Bpf.Execution;

namespace XdpGate.Cli.Commands;

/// <summary>
/// `xdpgate bench [--driver afxdp|afpacket|synthetic ...] [--mode drop|pass|tx|redirect ...] [--duration S]
/// [--reference DIR]`: Mpps of the appliance next to the kernel's native XDP on the same veth, with the same generator,
/// in namespaces it builds and removes, and for drop and tx next to the plain C loops built in DIR; or, for
/// `synthetic`, one core's in-process ceiling.
/// </summary>
internal static class BenchCommand
{
    public static Command Build(CliIo io)
    {
        var drivers = new Option<string[]>("--driver", "-d") { Description = "afxdp, afpacket (veth against the kernel, root) and/or synthetic (in process)", DefaultValueFactory = _ => ["afxdp", "afpacket"] };
        drivers.AcceptOnlyFromAmong("afxdp", "afpacket", "synthetic");
        var modes = new Option<string[]>("--mode", "-m") { Description = "drop, pass, tx, redirect", DefaultValueFactory = _ => ["drop", "pass", "tx", "redirect"] };
        modes.AcceptOnlyFromAmong("drop", "pass", "tx", "redirect");
        var duration = new Option<double>("--duration") { Description = "Seconds per measurement", DefaultValueFactory = _ => 4 };
        var engine = EngineOption.Create();
        engine.DefaultValueFactory = _ => "jit";
        var size = new Option<int>("--size") { Description = "Frame size in bytes without FCS", DefaultValueFactory = _ => 60 };
        var reference = new Option<string?>("--reference") { Description = "Directory of C reference loops (perf/reference/build.sh DIR) to measure too, for drop and tx" };
        var command = new Command("bench", "Measure Mpps: the appliance against the kernel's native XDP on veth, or in process (synthetic)") { drivers, modes, duration, engine, size, reference };
        command.SetAction(parsed =>
        {
            var seconds = parsed.GetValue(duration);
            if (seconds < 1.5)
                throw new CliInputException($"--duration {seconds}: at least 1.5 seconds per measurement");
            var chosenModes = parsed.GetValue(modes)!.Select(m => Enum.Parse<BenchMode>(m, ignoreCase: true)).Distinct().ToList();
            var chosenDrivers = parsed.GetValue(drivers)!.Distinct().ToList();
            var executionEngine = EngineOption.Parse(parsed.GetValue(engine));
            var references = parsed.GetValue(reference);
            if (references is not null && !Directory.Exists(references))
                throw new CliInputException($"--reference {references}: no such directory (perf/reference/build.sh {references} builds it)");
            var rows = new List<BenchRow>();
            io.Out.WriteLine($"{"mode",-9} {"dut",-26} {"Mpps",8} {"gen Mpps",9} {"of kernel",10}");
            void Print(BenchRow row)
            {
                var kernel = rows.FirstOrDefault(r => r.Mode == row.Mode && r.Dut == "kernel");
                var ratio = kernel is null || row == kernel || kernel.Mpps == 0 ? "" : (row.Mpps / kernel.Mpps).ToString("P0", CultureInfo.InvariantCulture);
                var generator = row.GeneratorMpps == 0 ? "" : row.GeneratorMpps.ToString("F3", CultureInfo.InvariantCulture);
                io.Out.WriteLine($"{row.Mode.ToString().ToLowerInvariant(),-9} {row.Dut,-26} {row.Mpps.ToString("F3", CultureInfo.InvariantCulture),8} {generator,9} {ratio,10}");
            }
            if (chosenDrivers.Contains("synthetic"))
            {
                foreach (var mode in chosenModes)
                {
                    rows.Add(SyntheticBench.Run(mode, executionEngine, TimeSpan.FromSeconds(seconds), parsed.GetValue(size), pinnedCpu: Environment.ProcessorCount > 1 ? 1 : 0));
                    Print(rows[^1]);
                }
            }
            var real = chosenDrivers.Where(d => d != "synthetic").ToList();
            if (real.Count > 0)
            {
                if (BenchTopology.WhyUnavailable() is { } why)
                    throw new CliInputException($"bench --driver {string.Join(",", real)}: {why}");
                var options = new VethBenchOptions { Modes = chosenModes, Drivers = real, Duration = TimeSpan.FromSeconds(seconds), Engine = executionEngine, FrameSize = parsed.GetValue(size), References = references };
                foreach (var row in VethBench.Run(options, io.Error.WriteLine))
                {
                    rows.Add(row);
                    Print(row);
                }
            }
            return ExitCode.Success;
        });
        return command;
    }
}
