using System.Diagnostics;

namespace XdpGate.Appliance.Ports.Synthetic;

/// <summary>What a generator run sent.</summary>
public sealed record GeneratorResult(long Sent, long RingFull, long Failed, TimeSpan Elapsed)
{
    public double PacketsPerSecond => Sent / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// `xdpgate gen`: sends <see cref="SyntheticTraffic"/> out of one port queue (an AF_PACKET TX ring or an AF_XDP
/// socket), bounded by a frame count and a duration, optionally paced to a rate. A full TX ring means waiting for
/// the kernel (kick and retry), not dropping: a generator measures what the far side can take.
/// </summary>
public static class Generator
{
    private const int Batch = 64;

    public static GeneratorResult Run(IPortQueue queue, SyntheticTraffic traffic, long? count, TimeSpan duration, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(traffic);
        traffic.Validate();
        if (count is null && duration == Timeout.InfiniteTimeSpan)
            throw new ArgumentException("a generator run needs a bound: --count or --duration");
        var size = traffic.Size;
        var templates = new byte[traffic.Flows * size];
        for (var f = 0; f < traffic.Flows; f++)
            traffic.Build(f, templates.AsSpan(f * size, size));
        long sent = 0, ringFull = 0, failed = 0;
        var limit = count ?? long.MaxValue;
        var clock = Stopwatch.StartNew();
        var flow = 0;
        while (sent < limit && !cancel.IsCancellationRequested && (duration == Timeout.InfiniteTimeSpan || clock.Elapsed < duration))
        {
            var allowed = traffic.Rate == 0 ? Batch : Math.Min(Batch, (long)(clock.Elapsed.TotalSeconds * traffic.Rate) - sent);
            var burst = (int)Math.Min(allowed, limit - sent);
            for (var i = 0; i < burst; i++)
            {
                var status = queue.TransmitCopy(templates.AsSpan(flow * size, size));
                if (status == TxStatus.RingFull)
                {
                    ringFull++;
                    break;
                }
                if (status != TxStatus.Sent)
                {
                    failed++;
                    continue;
                }
                sent++;
                flow = flow + 1 == traffic.Flows ? 0 : flow + 1;
            }
            queue.Flush();
            if (burst <= 0)
                Thread.SpinWait(64);
        }
        // Let the last kicks drain the ring.
        queue.Flush();
        return new GeneratorResult(sent, ringFull, failed, clock.Elapsed);
    }
}
