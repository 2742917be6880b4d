using System.Runtime.CompilerServices;
using XdpGate.Appliance.Ports;
using XdpGate.Bpf.Execution;

namespace XdpGate.Appliance.Dataplane;

/// <summary>What can go wrong with a frame after the program chose its verdict; each is counted, none waits.</summary>
public enum DispatchError
{
    /// <summary>The target's TX ring (or copy pool) was full.</summary>
    TxRingFull,
    /// <summary>The frame was longer than the target port's frames allow.</summary>
    TooLarge,
    /// <summary>The kernel refused the transmission.</summary>
    TxFailed,
    /// <summary>XDP_REDIRECT to an ifindex (or devmap entry) that is no port of this run.</summary>
    NoSuchPort,
    /// <summary>XDP_PASS on a port that has no pass target.</summary>
    NoPassTarget,
    /// <summary>A return value that is no xdp_action (the kernel warns and drops it).</summary>
    InvalidVerdict,
}

/// <summary>
/// Counters of one queue of one port, written only by the worker that owns the queue (plain increments, no
/// atomics: one writer) and read by any thread with <see cref="Snapshot"/>, which sums nothing and locks nothing.
/// </summary>
public sealed class QueueCounters
{
    internal long RxPackets;
    internal long RxBytes;
    internal long TxPackets;
    internal long TxBytes;
    internal readonly long[] Verdicts = new long[Verdict.Count];
    internal readonly long[] Errors = new long[Enum.GetValues<DispatchError>().Length];
    internal readonly long[] Aborts = new long[Enum.GetValues<FaultReason>().Length];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CountReceived(int length)
    {
        RxPackets++;
        RxBytes += length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CountSent(int length)
    {
        TxPackets++;
        TxBytes += length;
    }

    internal void CountError(TxStatus status) => Errors[(int)(status switch
    {
        TxStatus.RingFull => DispatchError.TxRingFull,
        TxStatus.TooLarge => DispatchError.TooLarge,
        _ => DispatchError.TxFailed,
    })]++;

    /// <summary>A consistent-enough copy for readers: each counter is read atomically (64-bit), the set is not.</summary>
    public CounterSnapshot Snapshot(RingStatistics ring)
    {
        var snapshot = new CounterSnapshot
        {
            RxPackets = Volatile.Read(ref RxPackets),
            RxBytes = Volatile.Read(ref RxBytes),
            TxPackets = Volatile.Read(ref TxPackets),
            TxBytes = Volatile.Read(ref TxBytes),
            Verdicts = Read(Verdicts),
            Errors = Read(Errors),
            Aborts = Read(Aborts),
            Ring = ring,
        };
        return snapshot;
    }

    private static long[] Read(long[] counters)
    {
        var copy = new long[counters.Length];
        for (var i = 0; i < counters.Length; i++)
            copy[i] = Volatile.Read(ref counters[i]);
        return copy;
    }
}

/// <summary>The verdict slots counters keep: the five xdp_actions by their numbers.</summary>
public static class Verdict
{
    public const int Count = 5;

    public static readonly string[] ShortNames = ["abort", "drop", "pass", "tx", "redir"];
}
