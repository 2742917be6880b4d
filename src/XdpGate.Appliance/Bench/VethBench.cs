using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports.AfPacket;
using XdpGate.Appliance.Ports.AfXdp;
using XdpGate.Appliance.Ports.Synthetic;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Service;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Linux.Bpf;
using XdpGate.Linux.Netlink;
using XdpGate.Linux.Netns;
using XdpGate.Linux.Threading;
using XdpGate.Uapi;

namespace XdpGate.Appliance.Bench;

/// <summary>One measurement: frames per second the DUT handled, and what the generator sent meanwhile.</summary>
public sealed record BenchRow(BenchMode Mode, string Dut, double Mpps, double GeneratorMpps);

/// <summary>How a veth benchmark runs.</summary>
public sealed record VethBenchOptions
{
    public IReadOnlyList<BenchMode> Modes { get; init; } = Enum.GetValues<BenchMode>();
    public IReadOnlyList<string> Drivers { get; init; } = ["afxdp", "afpacket"];
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(4);
    public ExecutionEngine Engine { get; init; } = ExecutionEngine.Jit;
    public int FrameSize { get; init; } = 60;
    public int GeneratorCpu { get; init; }
    public int DutCpu { get; init; } = 1;

    /// <summary>
    /// A directory of built C reference loops (perf/reference/build.sh): for modes drop and tx, each one present there
    /// is measured after the appliance's rows (see <see cref="ReferenceLoop.Known"/>). Null measures none.
    /// </summary>
    public string? References { get; init; }
}

/// <summary>
/// `xdpgate bench`: for each mode, the same counting program first attached to the DUT's veth as native kernel
/// XDP, then run by the appliance on each driver, with the same generator (AF_PACKET TX ring, one thread) sending
/// 60-byte UDP frames from the other namespace for the same time. The DUT's rate is read from the program's own
/// per-CPU counter, the first half second left out (ramp-up). With <see cref="VethBenchOptions.References"/>, plain C
/// loops doing the same over the same sockets follow, so the appliance's own overhead can be told from the kernel's.
/// </summary>
public static class VethBench
{
    private static readonly TimeSpan RampUp = TimeSpan.FromMilliseconds(500);

    public static IEnumerable<BenchRow> Run(VethBenchOptions options, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if (options.Duration <= RampUp + RampUp)
            throw new ArgumentException($"--duration {options.Duration.TotalSeconds}: at least a second and a bit");
        var references = References(options.References);
        using var topology = new BenchTopology(options.DutCpu);
        log($"topology: {topology.Gen}/{topology.GenInterface} -> {topology.Dut}/{topology.DutInterface} (redirects leave by {topology.OutInterface}); generator on CPU {options.GeneratorCpu}, DUT on CPU {options.DutCpu}");
        // Both far ends drop what reaches them with XDP: cheap and the same for every row. Without a program on the
        // generator's end, veth would refuse the kernel's XDP_TX frames (it needs the peer's NAPI), and the kernel's
        // row would count bounces that never left.
        var drop = Bpf.Isa.Assembler.Assemble("r0 = 1\nexit");
        using var sink = NetworkNamespace.Run(topology.Dut, () => KernelXdp.Attach(topology.SinkInterface, drop));
        using var generatorEnd = NetworkNamespace.Run(topology.Gen, () => KernelXdp.Attach(topology.GenInterface, drop));
        foreach (var mode in options.Modes)
        {
            yield return Kernel(topology, mode, options);
            foreach (var driver in options.Drivers)
                yield return Appliance(topology, mode, driver, options);
            if (mode is BenchMode.Drop or BenchMode.Tx)
            {
                foreach (var (path, kind) in references)
                    yield return Reference(topology, mode, path, kind, options, log);
            }
        }
    }

    /// <summary>The reference loops present in <paramref name="directory"/>, by full path; throws when it has none.</summary>
    private static List<(string Path, ReferenceLoopKind Kind)> References(string? directory)
    {
        if (directory is null)
            return [];
        if (!Directory.Exists(directory))
            throw new ArgumentException($"reference directory '{directory}' does not exist (perf/reference/build.sh DIR builds it)");
        var present = ReferenceLoop.Known.Where(loop => File.Exists(Path.Combine(directory, loop.Binary)))
            .Select(loop => (Path.GetFullPath(Path.Combine(directory, loop.Binary)), loop)).ToList();
        if (present.Count == 0)
            throw new ArgumentException($"reference directory '{directory}' holds none of {string.Join(", ", ReferenceLoop.Known.Select(l => l.Binary))} (perf/reference/build.sh DIR builds them)");
        return present;
    }

    private static BenchRow Kernel(BenchTopology topology, BenchMode mode, VethBenchOptions options)
    {
        using var counter = BpfSyscall.MapCreate((uint)bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1, name: "xdpgate_bench");
        var instructions = BenchPrograms.Instructions(mode, $"map_by_fd({counter.Fd})", topology.OutIfindex);
        using var attached = NetworkNamespace.Run(topology.Dut, () => KernelXdp.Attach(topology.DutInterface, instructions));
        topology.PinNapiThreads();
        var (mpps, generator) = Measure(topology, options, () => KernelXdp.Count(counter));
        return new BenchRow(mode, "kernel", mpps, generator);
    }

    private static BenchRow Appliance(BenchTopology topology, BenchMode mode, string driver, VethBenchOptions options)
    {
        using var counter = new ArrayMap(new MapDefinition("xdpgate_bench", bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1), Math.Max(2, Environment.ProcessorCount));
        var program = BpfProgram.Load(BenchPrograms.Instructions(mode, "map_by_idx(0)", topology.OutIfindex),
            new ProgramOptions { Name = "xdpgate_bench", Type = bpf_prog_type.BPF_PROG_TYPE_XDP, Maps = [counter] });
        // The DUT's interfaces are in its namespace, which /sys/class/net (the bench's own) does not show.
        var ifindexes = new Dictionary<string, uint> { [topology.DutInterface] = (uint)topology.DutIfindex, [topology.OutInterface] = (uint)topology.OutIfindex };
        var config = CommandLineConfig.Create(driver == "afxdp" ? PortDriver.Afxdp : PortDriver.Afpacket, [topology.DutInterface, topology.OutInterface],
            PortConfig.HostPass, new WorkersConfig([options.DutCpu]), new ProgramConfig(), interfaces: name => ifindexes.TryGetValue(name, out var i) ? i : null);
        using var taps = new TapHostStacks();
        var appliance = new ApplianceOptions { Workers = new WorkerOptions { Engine = options.Engine }, HostStack = taps.For };
        using var run = NetworkNamespace.Run(topology.Dut, () => new RunningAppliance(
            BuiltProgram.Generated(config.Config ?? throw new InvalidOperationException(config.Diagnostics.Errors(null)), program), appliance));
        run.Start();
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => run.RunUntil(stop.Token, options.Duration + TimeSpan.FromSeconds(1)));
        topology.PinNapiThreads();
        var (mpps, generator) = Measure(topology, options, () => Count(counter));
        stop.Cancel();
        running.GetAwaiter().GetResult();
        return new BenchRow(mode, $"xdpgate {driver}", mpps, generator);
    }

    private static BenchRow Reference(BenchTopology topology, BenchMode mode, string path, ReferenceLoopKind kind, VethBenchOptions options, Action<string> log)
    {
        using var loop = ReferenceLoop.Start(path, topology.Dut, topology.DutInterface, mode, options.DutCpu, options.Duration + TimeSpan.FromSeconds(1));
        // As the AF_PACKET port does once its socket exists, so the host stack does the same work in both rows.
        string? hostSeesFrames = null;
        using var ingressDrop = kind.TakesFromHost
            ? NetworkNamespace.Run(topology.Dut, () => IngressDrop.AttachIfSupported(topology.DutIfindex, out hostSeesFrames))
            : null;
        if (hostSeesFrames is not null)
            log($"{kind.Row}: the host stack sees every frame too: {hostSeesFrames}");
        topology.PinNapiThreads();
        var (mpps, generator) = Measure(topology, options, loop.Count);
        log(loop.Stop());
        return new BenchRow(mode, kind.Row, mpps, generator);
    }

    /// <summary>Runs the generator for the duration and returns the DUT's rate (by <paramref name="count"/>) and the generator's, in Mpps.</summary>
    private static (double Dut, double Generator) Measure(BenchTopology topology, VethBenchOptions options, Func<ulong> count)
    {
        var traffic = new SyntheticTraffic
        {
            Size = options.FrameSize,
            Source = IPAddress.Parse(topology.GenAddress),
            Destination = IPAddress.Parse(topology.DutAddress),
            DestinationMac = Convert.FromHexString(topology.DutMac.Replace(":", "", StringComparison.Ordinal)),
            SourceMac = [0x02, 0, 0, 0, 0, 0x01],
        };
        using var port = NetworkNamespace.Run(topology.Gen, () => AfPacketPort.Open(topology.GenInterface, new PortOptions { Queues = 1 }, takeFromHost: false));
        var generator = Task.Factory.StartNew(() =>
        {
            CpuAffinity.PinCurrentThread(options.GeneratorCpu);
            return Generator.Run(port.Queues[0], traffic, null, options.Duration, CancellationToken.None);
        }, TaskCreationOptions.LongRunning);
        Thread.Sleep(RampUp);
        var first = count();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(options.Duration - RampUp - RampUp);
        var last = count();
        var seconds = clock.Elapsed.TotalSeconds;
        var sent = generator.GetAwaiter().GetResult();
        return ((last - first) / seconds / 1e6, sent.PacketsPerSecond / 1e6);
    }

    private static ulong Count(ArrayMap counter)
    {
        var values = new byte[8 * counter.PossibleCpus];
        counter.Lookup(new byte[4], values);
        return SumSlots(values);
    }

    internal static ulong SumSlots(ReadOnlySpan<byte> values)
    {
        ulong total = 0;
        foreach (var slot in MemoryMarshal.Cast<byte, ulong>(values))
            total += slot;
        return total;
    }
}
