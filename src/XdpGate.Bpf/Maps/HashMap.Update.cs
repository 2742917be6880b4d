using System.Runtime.CompilerServices;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

public sealed unsafe partial class HashMap
{
    /// <summary>How often an LRU insert evicts and retries when other writers keep taking the room it made.</summary>
    private const int EvictionAttempts = 16;

    /// <summary>
    /// bpf_map_update_elem from a program: the running CPU's slot only for per-CPU maps (a new per-CPU element gets
    /// zeroes in the other CPUs' slots), all of the value otherwise. 0 or -EINVAL, -EEXIST, -ENOENT, -E2BIG, -ENOMEM.
    /// </summary>
    public override int UpdateElem(byte* key, byte* value, ulong flags, int cpu)
    {
        if (buckets == null || (perCpu && (uint)cpu >= (uint)PossibleCpus))
            return -Errno.EINVAL;
        if (programReadOnly)
            return -Errno.EPERM;
        return Update(key, value, perCpu ? cpu : AllCpus, flags);
    }

    /// <summary>bpf_map_delete_elem from a program: 0 or -ENOENT.</summary>
    public override int DeleteElem(byte* key)
    {
        if (buckets == null)
            return -Errno.ENOENT;
        if (programReadOnly)
            return -Errno.EPERM;
        return Delete(key);
    }

    /// <summary>Sets the value (every CPU's slot, each padded to 8 bytes, for per-CPU maps).</summary>
    protected override int UpdateValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        ThrowIfDisposed();
        CheckSizes(key, value.Length);
        if (syscallReadOnly)
            return -Errno.EPERM;
        fixed (byte* k = key)
        fixed (byte* v = value)
            return Update(k, v, AllCpus, flags);
    }

    protected override int DeleteValue(ReadOnlySpan<byte> key)
    {
        ThrowIfDisposed();
        CheckKeySize(key);
        if (syscallReadOnly)
            return -Errno.EPERM;
        fixed (byte* k = key)
            return Delete(k);
    }

    /// <summary>
    /// htab_map_update_elem and its LRU and per-CPU variants. Flags are checked before capacity, as in the kernel, so a
    /// full map answers -ENOENT, not -E2BIG, to BPF_EXIST on a missing key.
    /// </summary>
    private int Update(byte* key, byte* value, int cpu, ulong flags)
    {
        if (!ValidUpdateFlags(flags))
            return -Errno.EINVAL;
        var hash = HashOf(key);
        var bucket = BucketOf(hash);
        for (var attempt = 0; ; attempt++)
        {
            SpinGate.Enter(ref bucket->Gate);
            ref var link = ref FindLinkLocked(bucket, key, hash);
            var old = (link & NullsBit) == 0 ? (int)link : -1;
            var status = CheckFlags(old >= 0, flags);
            if (status != 0)
            {
                SpinGate.Exit(ref bucket->Gate);
                return status;
            }

            if (old >= 0 && perCpu)
            {
                var sequence = sequences.BeginWrite((uint)old);
                WriteValue(old, value, cpu, fresh: false);
                sequences.EndWrite((uint)old, sequence);
                if (lru)
                    MarkReferenced(old);
                SpinGate.Exit(ref bucket->Gate);
                return 0;
            }

            if (old < 0 && Interlocked.Increment(ref count) > maxEntries)
            {
                Interlocked.Decrement(ref count);
                SpinGate.Exit(ref bucket->Gate);
                if (!lru)
                    return -Errno.E2BIG;
                // Eviction locks the victim's bucket, so it happens with ours released (the kernel pops from the
                // LRU before taking the bucket lock for the same reason); then the whole update is tried again.
                if (attempt == EvictionAttempts)
                    return -Errno.ENOMEM;
                EvictOne();
                continue;
            }

            if (!free.TryDequeue(out var element))
            {
                // Only when more writers than ReplacementReserve replace elements at the same moment.
                if (old < 0)
                    Interlocked.Decrement(ref count);
                SpinGate.Exit(ref bucket->Gate);
                return -Errno.ENOMEM;
            }

            var node = Node(element);
            var written = sequences.BeginWrite((uint)element);
            // A replacement inherits the LRU reference, as in the kernel; a new key starts unreferenced.
            HashWordOf(node) = lru && old >= 0 ? hash | ReferencedBit : hash;
            Buffer.MemoryCopy(key, KeyOf(node), keySize, keySize);
            WriteValue(element, value, cpu, fresh: true);
            sequences.EndWrite((uint)element, written);

            // The kernel's order: publish at the head, then unlink the old element. New elements only ever enter a
            // chain at its head, so a reader led into this bucket by a recycled element still walks all of it. A
            // lookup already past the head when the new element arrives could miss both; advancing the gate word in
            // between makes such a miss inconclusive, and Find walks again.
            NextOf(node) = bucket->Head;
            Volatile.Write(ref bucket->Head, (uint)element);
            if (old >= 0)
            {
                SpinGate.Advance(ref bucket->Gate);
                if (Unsafe.AreSame(ref link, ref bucket->Head))
                    link = ref NextOf(node); // the old element was first; now it follows the new one
                Volatile.Write(ref link, NextOf(Node(old)));
                Volatile.Write(ref linked[old], (byte)0);
            }
            Volatile.Write(ref linked[element], (byte)1);
            SpinGate.Exit(ref bucket->Gate);
            if (old >= 0)
                free.Enqueue(old);
            return 0;
        }
    }

    private int Delete(byte* key)
    {
        var hash = HashOf(key);
        var bucket = BucketOf(hash);
        SpinGate.Enter(ref bucket->Gate);
        ref var link = ref FindLinkLocked(bucket, key, hash);
        if ((link & NullsBit) != 0)
        {
            SpinGate.Exit(ref bucket->Gate);
            return -Errno.ENOENT;
        }
        var element = (int)link;
        Volatile.Write(ref link, NextOf(Node(element)));
        Volatile.Write(ref linked[element], (byte)0);
        SpinGate.Exit(ref bucket->Gate);
        Release(element);
        return 0;
    }

    /// <summary>
    /// Returns an unlinked element to the free queue, then gives up its place in the count: in that order, an insert
    /// that got a place always finds a free element (the queue holds at least the reserve plus one).
    /// </summary>
    private void Release(int element)
    {
        free.Enqueue(element);
        Interlocked.Decrement(ref count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CheckFlags(bool exists, ulong flags) =>
        exists && flags == MapFlags.BPF_NOEXIST ? -Errno.EEXIST
        : !exists && flags == MapFlags.BPF_EXIST ? -Errno.ENOENT
        : 0;

    /// <summary>
    /// A chain walk under the bucket lock (links cannot change, no restart is needed): the link that holds the
    /// key's element, or the chain's terminator when the key is not there.
    /// </summary>
    private ref uint FindLinkLocked(Bucket* bucket, byte* key, uint hash)
    {
        ref var link = ref bucket->Head;
        while ((link & NullsBit) == 0)
        {
            var node = Node((int)link);
            if ((HashWordOf(node) & HashMask) == hash && KeyEquals(KeyOf(node), key))
                break;
            link = ref NextOf(node);
        }
        return ref link;
    }

    /// <summary>
    /// Removes an element from its bucket's chain (under the bucket lock); false if it is not there. The element
    /// keeps its own link, so a lock-free reader standing on it carries on down the chain.
    /// </summary>
    private bool Unlink(Bucket* bucket, int element)
    {
        ref var link = ref bucket->Head;
        while ((link & NullsBit) == 0)
        {
            if (link == (uint)element)
            {
                Volatile.Write(ref link, NextOf(Node(element)));
                return true;
            }
            link = ref NextOf(Node((int)link));
        }
        return false;
    }

    private void WriteValue(int element, byte* value, int cpu, bool fresh)
    {
        if (!perCpu)
        {
            Buffer.MemoryCopy(value, Slot(element, 0), valueSize, valueSize);
        }
        else if (cpu == AllCpus)
        {
            // The syscall layout: every slot padded to 8 bytes, copied whole as the kernel's bpf_long_memcpy does.
            for (var c = 0; c < PossibleCpus; c++)
                Buffer.MemoryCopy(value + c * slotSize, Slot(element, c), slotSize, slotSize);
        }
        else
        {
            // A program's value is value_size bytes on its stack; a new element starts at zero on the other CPUs.
            if (fresh)
            {
                for (var c = 0; c < PossibleCpus; c++)
                    new Span<byte>(Slot(element, c), (int)slotSize).Clear();
            }
            Buffer.MemoryCopy(value, Slot(element, cpu), valueSize, valueSize);
        }
    }
}
