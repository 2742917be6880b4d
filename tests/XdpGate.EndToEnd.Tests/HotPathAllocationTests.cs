using System.Diagnostics;
using XdpGate.Appliance.Dataplane;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.AfPacket;
using XdpGate.Appliance.Ports.AfXdp;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Xdp;
using XdpGate.Testing.HotPath;
using XdpGate.Testing.Net;
using Xunit;

namespace XdpGate.EndToEnd.Tests;

/// <summary>
/// The path from a real ring to the verdict allocates nothing: a worker polls an AF_XDP or AF_PACKET port while a
/// client floods it (bounded in time), bouncing every frame with XDP_TX, and the polling thread's allocation
/// counter does not move.
/// </summary>
public sealed class HotPathAllocationTests
{
    [SkippableTheory]
    [InlineData("afxdp", ExecutionEngine.Jit)]
    [InlineData("afxdp", ExecutionEngine.Interpreter)]
    [InlineData("afpacket", ExecutionEngine.Jit)]
    public void Polling_a_real_port_under_traffic_allocates_nothing(string driver, ExecutionEngine engine)
    {
        var why = ApplianceFixture.WhyUnavailable();
        Skip.If(why is not null, why);
        using var topology = new InlineTopology();
        var options = new PortOptions { RingSize = 512 };
        using IPort port = topology.InDut<IPort>(() => driver == "afxdp" ? AfXdpPort.Open(topology.West, options) : AfPacketPort.Open(topology.West, options));
        var counters = new QueueCounters();
        using var worker = new Worker(0, Programs.SwapMacsAndBounce(), [new WorkerPort(port, 0, null, counters)], new WorkerOptions { Engine = engine });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var flood = Task.Run(() => topology.InClient(() =>
        {
            using var client = new RawSocket(topology.ClientIfindex);
            var frame = TestFrames.Udp(topology.WestMac, topology.ClientMac, topology.ClientAddress, topology.ServerAddress, 3000, 0x8800);
            while (!stop.IsCancellationRequested)
            {
                client.Send(frame);
                Thread.SpinWait(200);
            }
            return 0;
        }));
        try
        {
            // Frames polled in the last (measured) call; a captured local costs nothing per call.
            long during = 0;
            var allocated = Allocations.InSteadyState(() =>
            {
                during = 0;
                // A tenth of a second of polling per call, so frames of the (slow, raw-socket) flood arrive in it.
                var end = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
                while (Stopwatch.GetTimestamp() < end)
                    during += worker.Poll();
            });
            Assert.Equal(0, allocated);
            Assert.True(during > 0, "no frame arrived while the allocations were measured");
            Assert.True(counters.Snapshot(default).Count(xdp_action.XDP_TX) > 0);
        }
        finally
        {
            stop.Cancel();
            flood.GetAwaiter().GetResult();
        }
    }
}
