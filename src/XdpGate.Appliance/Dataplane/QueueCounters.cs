using System.Runtime.CompilerServices;
using XdpGate.Appliance.Ports;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Xdp;

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
/// atomics: one writer) and read by any thread with <see cref="Snapshot"/>, which locks nothing. All of them live in
/// one array with a cache line of padding at each end, so two workers' counters never share a line.
/// </summary>
public sealed class QueueCounters
{
    private const int Pad = 8;
    private const int Rx = Pad;
    private const int RxBytes = Rx + 1;
    private const int Tx = RxBytes + 1;
    private const int TxBytes = Tx + 1;
    private const int VerdictBase = TxBytes + 1;
    private static readonly int ErrorBase = VerdictBase + Verdict.Count;
    private static readonly int ErrorCount = Enum.GetValues<DispatchError>().Length;
    private static readonly int AbortBase = ErrorBase + ErrorCount;
    private static readonly int AbortCount = Enum.GetValues<FaultReason>().Length;

    private readonly long[] slots = new long[AbortBase + AbortCount + Pad];

    /// <summary>A batch of <paramref name="frames"/> received frames, <paramref name="bytes"/> long together.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CountReceived(int frames, long bytes)
    {
        slots[Rx] += frames;
        slots[RxBytes] += bytes;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CountSent(int length)
    {
        slots[Tx]++;
        slots[TxBytes] += length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CountVerdict(xdp_action verdict) => slots[VerdictBase + (int)verdict]++;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CountError(DispatchError error) => slots[ErrorBase + (int)error]++;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CountAbort(FaultReason reason) => slots[AbortBase + (int)reason]++;

    /// <summary>A batch's in-place transmissions: those sent, and those refused by reason.</summary>
    internal void Count(in TransmitTally tally)
    {
        slots[Tx] += tally.Sent;
        slots[TxBytes] += tally.SentBytes;
        slots[ErrorBase + (int)DispatchError.TxRingFull] += tally.RingFull;
        slots[ErrorBase + (int)DispatchError.TooLarge] += tally.TooLarge;
        slots[ErrorBase + (int)DispatchError.TxFailed] += tally.Errors;
    }

    internal void CountError(TxStatus status) => CountError(status switch
    {
        TxStatus.RingFull => DispatchError.TxRingFull,
        TxStatus.TooLarge => DispatchError.TooLarge,
        _ => DispatchError.TxFailed,
    });

    /// <summary>A copy for readers: each counter is read atomically (64-bit), the set is not.</summary>
    public CounterSnapshot Snapshot(RingStatistics ring) => new()
    {
        RxPackets = Volatile.Read(ref slots[Rx]),
        RxBytes = Volatile.Read(ref slots[RxBytes]),
        TxPackets = Volatile.Read(ref slots[Tx]),
        TxBytes = Volatile.Read(ref slots[TxBytes]),
        Verdicts = Read(VerdictBase, Verdict.Count),
        Errors = Read(ErrorBase, ErrorCount),
        Aborts = Read(AbortBase, AbortCount),
        Ring = ring,
    };

    private long[] Read(int first, int count)
    {
        var copy = new long[count];
        for (var i = 0; i < count; i++)
            copy[i] = Volatile.Read(ref slots[first + i]);
        return copy;
    }
}

/// <summary>The verdict slots counters keep: the five xdp_actions by their numbers.</summary>
public static class Verdict
{
    public const int Count = 5;

    public static readonly string[] ShortNames = ["abort", "drop", "pass", "tx", "redir"];
}
