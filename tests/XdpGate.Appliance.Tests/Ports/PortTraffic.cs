using System.Diagnostics;
using XdpGate.Appliance.Ports;
using XdpGate.Testing.HotPath;
using XdpGate.Testing.Net;

namespace XdpGate.Appliance.Tests.Ports;

/// <summary>Drives a port queue the way a worker does, bounded in frames and time, for the port tests.</summary>
internal static class PortTraffic
{
    /// <summary>
    /// Receives until <paramref name="count"/> test frames (tagged by <see cref="TestFrames"/>) arrived or
    /// <paramref name="timeout"/> passed; each test frame goes to <paramref name="verdict"/> (true: transmit it back in
    /// place, false: recycle it); other frames are recycled. Returns the tags seen.
    /// </summary>
    public static unsafe List<ulong> Serve(IPortQueue queue, int count, TimeSpan timeout, Func<PortFrame, bool> verdict)
    {
        var tags = new List<ulong>();
        var batch = new PortFrame[64];
        var clock = Stopwatch.StartNew();
        while (tags.Count < count && clock.Elapsed < timeout)
        {
            var received = queue.Receive(batch);
            for (var i = 0; i < received; i++)
            {
                ref var frame = ref batch[i];
                if (TestFrames.Tag(frame.Packet) is { } tag)
                {
                    tags.Add(tag);
                    if (verdict(frame))
                        frame.Fate = FrameFate.Transmit;
                }
            }
            var tally = default(TransmitTally);
            queue.Complete(batch.AsSpan(0, received), ref tally);
            queue.Flush();
            if (received == 0)
                Thread.Sleep(1);
        }
        // Late completions come back too.
        queue.Flush();
        return tags;
    }

    /// <summary>
    /// Bytes allocated in steady state by the worker's whole queue cycle: the peer sends a frame, the queue receives
    /// it and bounces it in place (or releases it), sends a copy too, and flushes.
    /// </summary>
    public static long BounceAllocations(VethPair pair, RawSocket peer, IPortQueue queue)
    {
        var frame = TestFrames.Udp(pair.MacA, pair.MacB, pair.AddressB, pair.AddressA, 7, 1);
        var batch = new PortFrame[16];
        return Allocations.InSteadyState(() =>
        {
            peer.Send(frame);
            var received = queue.Receive(batch);
            for (var i = 0; i < received; i++)
                batch[i].Fate = FrameFate.Transmit;
            var tally = default(TransmitTally);
            queue.Complete(batch.AsSpan(0, received), ref tally);
            queue.TransmitCopy(frame);
            queue.Flush();
        });
    }
}
