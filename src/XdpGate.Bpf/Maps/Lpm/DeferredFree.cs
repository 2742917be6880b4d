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

/// <summary>Where a pool keeps, beside each of its items, the link to the next freed item and when it was freed.</summary>
internal interface IFreeLinks
{
    ref uint NextFree(uint index);

    ref long FreedAt(uint index);
}

/// <summary>
/// The FIFO of a pool's freed items under the rule of <see cref="DeferredFree"/>: value slots and trie nodes both
/// queue and reuse through it, each keeping the links in its own memory (<see cref="IFreeLinks"/>; a struct, so the
/// calls compile to direct loads and stores).
/// </summary>
internal struct FreeQueue
{
    private const uint End = uint.MaxValue;

    private uint head = End;
    private uint tail = End;
    private uint count;

    public FreeQueue()
    {
    }

    /// <summary>Queues an unlinked item at the back, stamped with the time it was freed.</summary>
    public void Push<TLinks>(TLinks links, uint index) where TLinks : struct, IFreeLinks
    {
        links.NextFree(index) = End;
        links.FreedAt(index) = DeferredFree.Now;
        if (tail == End)
            head = index;
        else
            links.NextFree(tail) = index;
        tail = index;
        count++;
    }

    /// <summary>
    /// The oldest freed item once its grace period has passed. Otherwise false, with when it will have passed in
    /// <paramref name="reusableAt"/> (0 when nothing is queued).
    /// </summary>
    public bool TryPop<TLinks>(TLinks links, long gracePeriod, out uint index, out long reusableAt)
        where TLinks : struct, IFreeLinks
    {
        reusableAt = 0;
        if (count == 0 || !DeferredFree.Expired(links.FreedAt(head), gracePeriod, out reusableAt))
        {
            index = End;
            return false;
        }
        index = head;
        head = links.NextFree(index);
        if (head == End)
            tail = End;
        count--;
        return true;
    }
}
