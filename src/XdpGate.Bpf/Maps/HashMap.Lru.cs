using System.Runtime.CompilerServices;

namespace XdpGate.Bpf.Maps;

// LRU eviction by CLOCK (second chance), an approximation of least-recently-used as the kernel's is: the kernel keeps
// active and inactive lists with a reference bit per node and rotates them in batches; here the reference bit is
// the whole story. It is the top bit of the node's hash word, on the line a lookup has just read. A program lookup
// sets it (only if clear, to keep the cache line shared, as bpf_lru_node_set_ref does); a new element starts clear,
// a replacement or an in-place per-CPU update sets it.
// An insert into a full map advances a hand over the element array: a set bit is cleared and passed over, the first
// linked element with a clear bit is evicted. So an element survives if it was used since the hand last passed,
// and cold elements go first. Control-plane lookups do not count as use, as in the kernel.
public sealed unsafe partial class HashMap
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MarkReferenced(int element)
    {
        // Atomic because the bit shares its word with the hash, which a writer may be setting for a recycled element.
        ref var word = ref HashWordOf(Node(element));
        if ((word & ReferencedBit) == 0)
            Interlocked.Or(ref word, ReferencedBit);
    }

    /// <summary>
    /// Evicts one element; false if two sweeps of the hand found nothing to evict (every element in flight or
    /// being used faster than the hand can clear it). Called with no bucket lock held.
    /// </summary>
    private bool EvictOne()
    {
        var elements = (ulong)capacity;
        for (var step = 0ul; step < 2 * elements + 1; step++)
        {
            var element = (int)((ulong)Interlocked.Increment(ref clockHand) % elements);
            if (Volatile.Read(ref linked[element]) == 0)
                continue;
            ref var word = ref HashWordOf(Node(element));
            if ((Volatile.Read(ref word) & ReferencedBit) != 0)
            {
                Interlocked.And(ref word, ~ReferencedBit);
                continue;
            }
            if (TryEvict(element))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Deletes an element chosen without a lock, if it is still linked (the kernel's htab_lru_map_delete_node). Its
    /// hash may be stale if it was recycled meanwhile; then it is not in the bucket we lock and nothing happens.
    /// </summary>
    private bool TryEvict(int element)
    {
        var bucket = BucketOf(Volatile.Read(ref HashWordOf(Node(element))));
        SpinGate.Enter(ref bucket->Gate);
        var found = Unlink(bucket, element);
        if (found)
            Volatile.Write(ref linked[element], (byte)0);
        SpinGate.Exit(ref bucket->Gate);
        if (!found)
            return false;
        Release(element);
        return true;
    }
}
