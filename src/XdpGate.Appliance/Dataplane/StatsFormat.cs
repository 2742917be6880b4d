using System.Globalization;
using XdpGate.Bpf.Execution;

namespace XdpGate.Appliance.Dataplane;

/// <summary>Counters as text: one line per port per second in xdp-bench's manner, and the summary at the end of a run.</summary>
public static class StatsFormat
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>One line per port: each rate between two snapshots.</summary>
    public static IEnumerable<string> PerSecond(StatsSnapshot before, StatsSnapshot after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var seconds = Math.Max((after.Time - before.Time).TotalSeconds, 1e-9);
        for (var p = 0; p < after.Ports.Count; p++)
        {
            var (a, b) = (before.Ports[p].Total, after.Ports[p].Total);
            string Rate(long delta) => (delta / seconds).ToString("N0", Invariant);
            var verdicts = string.Join("  ", Enumerable.Range(0, Verdict.Count)
                .Select(v => $"{Rate(b.Verdicts[v] - a.Verdicts[v]),12} {Verdict.ShortNames[v]}/s"));
            var ringDrops = (long)(b.Ring.RxDropped - a.Ring.RxDropped);
            yield return $"{after.Ports[p].Name,-12} {Rate(b.RxPackets - a.RxPackets),12} rx/s  {verdicts}  {Rate(b.ErrorTotal - a.ErrorTotal),9} err/s  {Rate(ringDrops),9} ringdrop/s";
        }
    }

    /// <summary>The end-of-run report: per port and queue, per worker, errors and aborts by reason.</summary>
    public static IEnumerable<string> Summary(RunSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var seconds = Math.Max(summary.Elapsed.TotalSeconds, 1e-9);
        var stats = summary.Stats;
        var total = stats.Total;
        yield return $"Summary: {total.RxPackets.ToString("N0", Invariant)} frames in {seconds.ToString("F2", Invariant)} s, "
            + $"{(total.RxPackets / seconds / 1e6).ToString("F3", Invariant)} Mpps, {stats.WorkerCount} worker(s)";
        foreach (var port in stats.Ports)
        {
            yield return $"  port {port.Name} (ifindex {port.Ifindex}): {Counts(port.Total)}";
            if (port.Queues.Count > 1)
            {
                for (var q = 0; q < port.Queues.Count; q++)
                    yield return $"    queue {q}: {Counts(port.Queues[q])}";
            }
            foreach (var line in Reasons(port.Total))
                yield return $"    {line}";
        }
        for (var w = 0; w < stats.WorkerCount; w++)
        {
            var worker = stats.Worker(w);
            yield return $"  worker {w}: rx {worker.RxPackets.ToString("N0", Invariant)} ({(worker.RxPackets / seconds / 1e6).ToString("F3", Invariant)} Mpps)"
                + (summary.LastFaults[w].Reason == FaultReason.None ? "" : $", last fault: {summary.LastFaults[w]}");
        }
    }

    private static string Counts(CounterSnapshot c) =>
        $"rx {c.RxPackets.ToString("N0", Invariant)} ({c.RxBytes.ToString("N0", Invariant)} bytes), "
        + string.Join(", ", Enumerable.Range(0, Verdict.Count).Select(v => $"{Verdict.ShortNames[v]} {c.Verdicts[v].ToString("N0", Invariant)}"))
        + $", sent {c.TxPackets.ToString("N0", Invariant)}, errors {c.ErrorTotal.ToString("N0", Invariant)}, ring drops {c.Ring.RxDropped.ToString("N0", Invariant)}";

    private static IEnumerable<string> Reasons(CounterSnapshot c)
    {
        foreach (var error in Enum.GetValues<DispatchError>().Where(e => c.Count(e) != 0))
            yield return $"error {error}: {c.Count(error).ToString("N0", Invariant)}";
        foreach (var reason in Enum.GetValues<FaultReason>().Where(r => c.Aborts[(int)r] != 0))
            yield return $"aborted ({(reason == FaultReason.None ? "program returned XDP_ABORTED" : reason.ToString())}): {c.Aborts[(int)reason].ToString("N0", Invariant)}";
        if (c.Ring.RxRingFull != 0 || c.Ring.FillRingEmpty != 0 || c.Ring.TxInvalid != 0)
            yield return $"kernel: rx ring full {c.Ring.RxRingFull.ToString("N0", Invariant)}, fill ring empty {c.Ring.FillRingEmpty.ToString("N0", Invariant)}, tx invalid {c.Ring.TxInvalid.ToString("N0", Invariant)}";
    }
}
