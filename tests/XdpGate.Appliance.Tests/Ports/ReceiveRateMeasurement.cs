using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Xunit;
using Xunit.Abstractions;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.AfPacket;
using XdpGate.Appliance.Ports.AfXdp;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Xdp;
using XdpGate.Linux.AfPacket;
using XdpGate.Linux.Bpf;
using XdpGate.Linux.Netlink;
using XdpGate.Linux.Threading;
using XdpGate.Testing.Net;
using XdpGate.Uapi;

namespace XdpGate.Appliance.Tests.Ports;

/// <summary>
/// Opt-in (XDPGATE_MEASURE=1, root, 2+ CPUs): receive rates of the AF_PACKET and AF_XDP port loops on a veth pair,
/// next to the kernel's own XDP_DROP on the same interface, with one AF_PACKET TX-ring sender of 60-byte frames
/// pinned to CPU 0. The receiving veth's work is moved to CPU 1 (threaded NAPI pinned there when XDP gives veth a
/// NAPI context, RPS otherwise), where the receiving loop runs too; otherwise every figure would measure the sender.
/// Run: XDPGATE_MEASURE=1 dotnet test tests/XdpGate.Appliance.Tests -c Release --filter ReceiveRateMeasurement --logger "console;verbosity=detailed"
/// </summary>
public sealed class ReceiveRateMeasurement(ITestOutputHelper output)
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);

    [SkippableFact]
    public void Receive_rates_on_veth_next_to_kernel_xdp_drop()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("XDPGATE_MEASURE") == "1", "opt-in: set XDPGATE_MEASURE=1 to measure receive rates");
        var why = VethPair.WhyUnavailable() ?? BpfSyscall.WhyUnavailable();
        Skip.If(why is not null, why);
        Skip.If(Environment.ProcessorCount < 2, "needs two CPUs: one sends, one receives");

        // Rounds interleave the three receivers, so a burst of load from elsewhere hits all of them alike; medians are reported.
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("XDPGATE_MEASURE_ROUNDS"), out var r) && r > 0 ? r : 3;
        var kernel = new List<double>();
        var afxdp = new List<double>();
        var afpacket = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            kernel.Add(Measure("kernel XDP_DROP (native, threaded NAPI on CPU 1)", KernelDrop));
            afxdp.Add(Measure("AfXdpPort RX loop (copy mode, threaded NAPI on CPU 1)", PortLoop(name => AfXdpPort.Open(name, new PortOptions()), napi: true)));
            afpacket.Add(Measure("AfPacketPort RX loop (TPACKET_V3, RPS to CPU 1)", PortLoop(name => AfPacketPort.Open(name, new PortOptions()), napi: false)));
        }
        double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"medians of {rounds}: kernel {Median(kernel):F3} Mpps, AF_XDP {Median(afxdp):F3} ({Median(afxdp) / Median(kernel):P0}), AF_PACKET {Median(afpacket):F3} ({Median(afpacket) / Median(kernel):P0})"));
        Assert.True(kernel.Min() > 0 && afxdp.Min() > 0 && afpacket.Min() > 0, "a receiver saw nothing");
    }

    /// <summary>Runs the sender in A for <see cref="Duration"/> while <paramref name="receiver"/> counts in B; returns received Mpps.</summary>
    private double Measure(string what, Func<VethPair, Func<bool>, long> receiver)
    {
        using var pair = new VethPair("xm");
        var stop = false;
        long received = 0;
        Exception? failure = null;
        var receiving = new Thread(() =>
        {
            try
            {
                received = receiver(pair, () => Volatile.Read(ref stop));
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { Name = "receiver" };
        receiving.Start();
        Thread.Sleep(500); // the receiver attaches and binds
        var sent = pair.InA(() => Send(pair));
        Volatile.Write(ref stop, true);
        receiving.Join();
        if (failure is not null)
            throw new InvalidOperationException($"{what}: the receiver failed", failure);
        var seconds = Duration.TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: sent {sent / seconds / 1e6:F3} Mpps, received {received / seconds / 1e6:F3} Mpps ({(double)received / sent:P0})"));
        return received / seconds / 1e6;
    }

    private static long Send(VethPair pair)
    {
        CpuAffinity.PinCurrentThread(0);
        using var socket = PacketSocket.Open(pair.IfindexA, new PacketSocketOptions { RxBlockCount = 0, TxFrameCount = 4096, TxFrameSize = 256 });
        var frames = Enumerable.Range(0, 64)
            .Select(i => TestFrames.Udp(pair.MacB, pair.MacA, pair.AddressA, pair.AddressB, (ushort)(10000 + i), (ulong)i, 60))
            .ToArray();
        var tx = socket.Tx!;
        long sent = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Duration)
        {
            for (var i = 0; i < 256 && tx.TryEnqueue(frames[sent & 63]); i++)
                sent++;
            tx.Kick();
        }
        // Frames still queued when the time is up are not counted as sent.
        return sent;
    }

    private static Func<VethPair, Func<bool>, long> PortLoop(Func<string, IPort> open, bool napi) => (pair, stop) =>
    {
        using var port = pair.InB(() => open(pair.InterfaceB));
        MoveReceiveWork(pair, napi);
        CpuAffinity.PinCurrentThread(1);
        var queue = port.Queues[0];
        var batch = new PortFrame[64];
        // The receive work shares CPU 1 with this loop, so an idle loop waits in poll() instead of spinning it away.
        var idle = new PollSet([queue.PollDescriptor]);
        long count = 0;
        while (!stop())
        {
            var received = queue.Receive(batch);
            var tally = default(TransmitTally);
            queue.Complete(batch.AsSpan(0, received), ref tally);
            queue.Flush();
            count += received;
            if (received == 0)
                idle.Wait(10);
        }
        var rings = queue.ReadRingStatistics();
        Console.WriteLine($"  {port}: rx dropped {rings.RxDropped}, ring full {rings.RxRingFull}, fill ring empty {rings.FillRingEmpty}");
        return count;
    };

    private static long KernelDrop(VethPair pair, Func<bool> stop)
    {
        using var counter = BpfSyscall.MapCreate(bpf_defines.BPF_MAP_TYPE_ARRAY, 4, 8, 1, name: "xg_count");
        var insns = Assembler.Assemble($"""
            r1 = 0
            *(u32 *)(r10 - 4) = r1
            r2 = r10
            r2 += -4
            r1 = map_by_fd({counter.Fd}) ll
            call 1
            if r0 == 0 goto +2
            r1 = 1
            lock *(u64 *)(r0 + 0) += r1
            r0 = {(int)xdp_action.XDP_DROP}
            exit
            """);
        using var prog = BpfSyscall.ProgLoad(bpf_defines.BPF_PROG_TYPE_XDP, MemoryMarshal.AsBytes(insns.AsSpan()), name: "xg_count_drop");
        using var route = pair.InB(() => new RouteSocket());
        var mode = Links.AttachXdp(route, pair.IfindexB, prog.Fd);
        try
        {
            MoveReceiveWork(pair, napi: true);
            while (!stop())
                Thread.Sleep(10);
            var value = new byte[8];
            BpfSyscall.MapLookup(counter, new byte[4], value);
            return BitConverter.ToInt64(value);
        }
        finally
        {
            Links.DetachXdp(route, pair.IfindexB, mode);
        }
    }

    /// <summary>Moves B's receive processing to CPU 1: threaded NAPI pinned there, or RPS when veth runs without NAPI.</summary>
    private static void MoveReceiveWork(VethPair pair, bool napi)
    {
        if (!napi)
        {
            VethPair.Exec(pair.NamespaceB, $"sh -c \"echo 2 > /sys/class/net/{pair.InterfaceB}/queues/rx-0/rps_cpus\"");
            return;
        }
        VethPair.Exec(pair.NamespaceB, $"sh -c \"echo 1 > /sys/class/net/{pair.InterfaceB}/threaded\"");
        // The kthread's name is napi/DEV-ID, cut to 15 characters.
        var prefix = $"napi/{pair.InterfaceB}";
        var pids = Process.GetProcesses().Where(p => p.ProcessName.StartsWith(prefix[..Math.Min(prefix.Length, 15)], StringComparison.Ordinal)).ToList();
        Assert.True(pids.Count > 0, $"no {prefix} kthread: threaded NAPI did not start");
        foreach (var pid in pids)
            Run("taskset", $"-pc 1 {pid.Id}");
    }

    private static void Run(string program, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.WaitForExit(5000);
        Assert.True(process.ExitCode == 0, $"{program} {arguments}: {process.StandardError.ReadToEnd()}");
    }
}
