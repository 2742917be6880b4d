using System.Runtime.CompilerServices;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

public sealed unsafe partial class HashMap
{
    /// <summary>bpf_map_lookup_elem from a program: no lock, no allocation. Marks the element used for LRU maps.</summary>
    public override byte* LookupElem(byte* key, int cpu)
    {
        if (buckets == null || (perCpu && (uint)cpu >= (uint)PossibleCpus))
            return null;
        var index = Find(key, HashOf(key));
        if (index < 0)
            return null;
        if (lru)
            MarkReferenced(index);
        return Slot(index, perCpu ? cpu : 0);
    }

    /// <summary>
    /// Copies the value (every CPU's slot, each padded to 8 bytes, for per-CPU maps). Retries until the copy was made
    /// between two equal even readings of the element's sequence counter, so it is never a mix of two writes (after
    /// many lost races it holds the element like a writer, see <see cref="SeqLock"/>). Like the kernel's syscall
    /// lookup, it does not count as a use for LRU eviction.
    /// </summary>
    public override int Lookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        ThrowIfDisposed();
        CheckSizes(key, value.Length);
        if (syscallWriteOnly)
            return -Errno.EPERM;
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var hash = HashOf(k);
            var attempts = 0;
            while (true)
            {
                var index = Find(k, hash);
                if (index < 0)
                    return -Errno.ENOENT;
                var token = sequences.ReadBegin((uint)index, ref attempts);
                // The key is checked again inside the read section: the element may have been deleted and reused
                // for another key between the lock-free find and ReadBegin. Then the section still has to be ended
                // (it may hold the element), and the key is looked up again.
                var same = KeyEquals(KeyOf(Node(index)), k);
                if (same)
                    CopyOut(index, v);
                if (!sequences.ReadRetry((uint)index, token) && same)
                    return 0;
            }
        }
    }

    /// <summary>
    /// The element holding <paramref name="key"/>, or -1; the kernel's lookup_nulls_elem_raw. Safe without a lock:
    /// chain links of deleted elements stay valid element indices or terminators, and a walk that ends on another
    /// bucket's terminator was led astray by a reused element and starts over. A miss is believed only if the
    /// bucket's gate word did not move during the walk (see the replacement in Update); a hit needs no check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(byte* key, uint hash)
    {
        var bucket = BucketOf(hash);
        var nulls = NullsOf(hash, bucketMask);
        while (true)
        {
            var gate = Volatile.Read(ref bucket->Gate);
            var link = Volatile.Read(ref bucket->Head);
            while ((link & NullsBit) == 0)
            {
                var node = Node((int)link);
                if ((HashWordOf(node) & HashMask) == hash && KeyEquals(KeyOf(node), key))
                    return (int)link;
                link = Volatile.Read(ref NextOf(node));
            }
            // The acquire reads of the walk keep this read after them, so it sees any section whose link stores
            // the walk observed. The word check alone would do: straying into another chain needs an element of this
            // one unlinked during the walk; the terminator check is the kernel's and costs nothing.
            if (link == nulls && Volatile.Read(ref bucket->Gate) == gate)
                return -1;
        }
    }

    /// <summary>Compares a stored key (8-byte aligned) with a caller's key (any alignment).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool KeyEquals(byte* stored, byte* key) => keySize switch
    {
        4 => *(uint*)stored == Unsafe.ReadUnaligned<uint>(key),
        8 => *(ulong*)stored == Unsafe.ReadUnaligned<ulong>(key),
        16 => *(ulong*)stored == Unsafe.ReadUnaligned<ulong>(key)
              && *(ulong*)(stored + 8) == Unsafe.ReadUnaligned<ulong>(key + 8),
        _ => new ReadOnlySpan<byte>(stored, keySize).SequenceEqual(new ReadOnlySpan<byte>(key, keySize)),
    };

    /// <summary>Copies an element's value into the control plane's layout.</summary>
    private void CopyOut(int index, byte* destination)
    {
        if (!perCpu)
        {
            Buffer.MemoryCopy(Slot(index, 0), destination, valueSize, valueSize);
            return;
        }
        for (var cpu = 0; cpu < PossibleCpus; cpu++)
            Buffer.MemoryCopy(Slot(index, cpu), destination + cpu * slotSize, slotSize, slotSize);
    }

    /// <summary>
    /// Copies an element's key if it can be read consistently; false when a writer was reusing the element meanwhile,
    /// and the caller must find the element again (a reused element may sit in another bucket). <paramref
    /// name="attempts"/> counts the caller's tries, for the seqlock's fallback.
    /// </summary>
    private bool TryCopyKey(int index, byte* destination, ref int attempts)
    {
        var token = sequences.ReadBegin((uint)index, ref attempts);
        Buffer.MemoryCopy(KeyOf(Node(index)), destination, keySize, keySize);
        return !sequences.ReadRetry((uint)index, token);
    }
}
