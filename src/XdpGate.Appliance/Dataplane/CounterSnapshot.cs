using XdpGate.Appliance.Ports;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Dataplane;

/// <summary>Counters read at one moment; sums of snapshots give per-port and per-worker totals.</summary>
public sealed record CounterSnapshot
{
    public long RxPackets { get; init; }
    public long RxBytes { get; init; }
    public long TxPackets { get; init; }
    public long TxBytes { get; init; }

    /// <summary>Frames per verdict, indexed by xdp_action.</summary>
    public long[] Verdicts { get; init; } = new long[Verdict.Count];

    /// <summary>Frames lost after the verdict, indexed by <see cref="DispatchError"/>.</summary>
    public long[] Errors { get; init; } = new long[Enum.GetValues<DispatchError>().Length];

    /// <summary>XDP_ABORTED frames by fault reason; <see cref="FaultReason.None"/> counts programs that returned XDP_ABORTED themselves.</summary>
    public long[] Aborts { get; init; } = new long[Enum.GetValues<FaultReason>().Length];

    public RingStatistics Ring { get; init; }

    public long Count(xdp_action verdict) => Verdicts[(int)verdict];

    public long Count(DispatchError error) => Errors[(int)error];

    public long ErrorTotal => Errors.Sum();

    public static CounterSnapshot Sum(IEnumerable<CounterSnapshot> snapshots)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        var total = new CounterSnapshot();
        foreach (var s in snapshots)
            total = total.Add(s);
        return total;
    }

    private CounterSnapshot Add(CounterSnapshot other) => new()
    {
        RxPackets = RxPackets + other.RxPackets,
        RxBytes = RxBytes + other.RxBytes,
        TxPackets = TxPackets + other.TxPackets,
        TxBytes = TxBytes + other.TxBytes,
        Verdicts = [.. Verdicts.Zip(other.Verdicts, (a, b) => a + b)],
        Errors = [.. Errors.Zip(other.Errors, (a, b) => a + b)],
        Aborts = [.. Aborts.Zip(other.Aborts, (a, b) => a + b)],
        Ring = new RingStatistics
        {
            RxDropped = Ring.RxDropped + other.Ring.RxDropped,
            RxRingFull = Ring.RxRingFull + other.Ring.RxRingFull,
            FillRingEmpty = Ring.FillRingEmpty + other.Ring.FillRingEmpty,
            TxInvalid = Ring.TxInvalid + other.Ring.TxInvalid,
        },
    };
}
