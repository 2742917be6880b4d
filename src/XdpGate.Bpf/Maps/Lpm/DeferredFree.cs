using System.Diagnostics;

namespace XdpGate.Bpf.Maps.Lpm;

/// <summary>
/// The reuse rule shared by value slots and trie nodes: an unlinked item goes to the back of a FIFO and comes back
/// only once a grace period (<see cref="DefaultGracePeriod"/> unless a test sets another) has passed since it was
/// freed, so that a lock-free reader that was using it (inside a lookup, or holding a value pointer for the rest of a
/// program run) is long done.
/// </summary>
/// <remarks>
/// The kernel waits for an RCU grace period, which is exact: it knows when every CPU has left its read-side section.
/// This is a time bound instead, because readers here announce nothing (announcing would cost a fenced store per
/// lookup). A reader descheduled for longer than the grace period in the middle of a lookup could read a reused item:
/// that stays memory-safe (every index still points at a live slot or node of the same level) but may give a wrong
/// answer for that one lookup. Quiescent-state reports from the workers between batches would make it exact.
/// </remarks>
internal static class DeferredFree
{
    /// <summary>50 ms, in <see cref="Stopwatch"/> ticks: many scheduler time slices.</summary>
    public static readonly long DefaultGracePeriod = Stopwatch.Frequency / 20;

    public static long Now => Stopwatch.GetTimestamp();

    /// <summary>Whether an item freed at <paramref name="freedAt"/> may be reused now; otherwise when it may.</summary>
    public static bool Expired(long freedAt, long gracePeriod, out long reusableAt)
    {
        reusableAt = freedAt + gracePeriod;
        return Now >= reusableAt;
    }
}
