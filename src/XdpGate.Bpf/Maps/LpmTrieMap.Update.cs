using System.Diagnostics;
using System.Runtime.CompilerServices;
using XdpGate.Bpf.Maps.Lpm;

namespace XdpGate.Bpf.Maps;

// Updates and deletes, under the map's lock.
//
// A prefix of length L (L >= 1) lives in the node of level(L) on its path, at relative depth l = L - Depth, pattern
// p = its top l bits of that level; it covers that node's entries [p << (Stride - l), (p + 1) << (Stride - l)). Every
// entry's best (its own word, or its child's header) is the longest prefix of the node covering it, and every slot
// links to the next shorter prefix of its node that covers it. Adding, replacing or removing a prefix therefore
// rewrites only its own range: entries whose best was the prefix being displaced take the replacement, and chains that
// passed through it are relinked. /0 is kept apart in the root's header word, so it is never expanded.
public sealed unsafe partial class LpmTrieMap
{
    public override int UpdateElem(byte* key, byte* value, ulong flags, int cpu) => UpdateCore(key, value, flags, mayWait: false);

    public override int DeleteElem(byte* key) => DeleteCore(key);

    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = MapFlags.BPF_ANY)
    {
        CheckSizes(key, value.Length);
        fixed (byte* k = key)
        fixed (byte* v = value)
            return UpdateCore(k, v, flags, mayWait: true);
    }

    public override int Delete(ReadOnlySpan<byte> key)
    {
        CheckKeySize(key);
        fixed (byte* k = key)
            return DeleteCore(k);
    }

    [SkipLocalsInit]
    private int UpdateCore(byte* key, byte* value, ulong flags, bool mayWait)
    {
        if (!ValidUpdateFlags(flags))
            return -Errno.EINVAL;
        var prefixlen = Unsafe.ReadUnaligned<uint>(key);
        if (prefixlen > (uint)maxBits)
            return -Errno.EINVAL;
        var data = key + KeyHeaderSize;
        var words = stackalloc ulong[wordCount];
        KeyWordReader.Fill(data, dataSize, words, (int)prefixlen);
        while (true)
        {
            int result;
            long retryAt;
            lock (gate)
            {
                blockedUntil = 0;
                result = prefixlen == 0 ? UpdateDefault(data, value, flags) : UpdatePrefix(words, data, (int)prefixlen, value, flags);
                retryAt = result == -Errno.ENOMEM ? blockedUntil : 0;
            }
            if (retryAt == 0 || !mayWait)
                return result;
            // Only recently freed slots or nodes are left: wait, without the lock, for the oldest to come of age.
            var wait = Stopwatch.GetElapsedTime(DeferredFree.Now, retryAt);
            if (wait > TimeSpan.Zero)
                Thread.Sleep(wait + TimeSpan.FromMilliseconds(1));
        }
    }

    [SkipLocalsInit]
    private int DeleteCore(byte* key)
    {
        var prefixlen = Unsafe.ReadUnaligned<uint>(key);
        if (prefixlen > (uint)maxBits)
            return -Errno.EINVAL;
        var words = stackalloc ulong[wordCount];
        KeyWordReader.Fill(key + KeyHeaderSize, dataSize, words, (int)prefixlen);
        lock (gate)
            return prefixlen == 0 ? DeleteDefault() : DeletePrefix(words, (int)prefixlen);
    }

    private int UpdateDefault(byte* data, byte* value, ulong flags)
    {
        var old = root[0];
        if (old != 0 && flags == MapFlags.BPF_NOEXIST)
            return -Errno.EEXIST;
        if (old == 0 && flags == MapFlags.BPF_EXIST)
            return -Errno.ENOENT;
        if (old == 0 && count >= MaxEntries)
            return -Errno.ENOSPC;
        if (!TryAllocateSlot(out var slot))
            return -Errno.ENOMEM;
        slots.Fill(slot, value, ValueSize, data, 0, 0);
        Volatile.Write(ref root[0], slot + 1);
        if (old != 0)
            slots.Free(old - 1);
        else
            count++;
        return 0;
    }

    private int DeleteDefault()
    {
        var old = root[0];
        if (old == 0)
            return -Errno.ENOENT;
        Volatile.Write(ref root[0], 0u);
        slots.Free(old - 1);
        count--;
        return 0;
    }

    private int UpdatePrefix(ulong* words, byte* data, int prefixlen, byte* value, ulong flags)
    {
        var at = new Place(this, words, prefixlen);
        var pathExists = TryDescend(words, at.Level, create: false, out var nodeIndex);
        var old = pathExists && IsPresent(at.Level, nodeIndex, at.Relative, at.Pattern)
            ? ExactRef(at.Level, nodeIndex, at.First, (uint)prefixlen)
            : 0;

        if (old != 0)
        {
            if (flags == MapFlags.BPF_NOEXIST)
                return -Errno.EEXIST;
            if (!TryAllocateSlot(out var replacement))
                return -Errno.ENOMEM;
            slots.Fill(replacement, value, ValueSize, data, (uint)prefixlen, slots.ParentOfRef(old));
            Rewrite(at, nodeIndex, displaced: old, replacement: replacement + 1);
            slots.Free(old - 1);
            return 0;
        }

        if (flags == MapFlags.BPF_EXIST)
            return -Errno.ENOENT;
        if (count >= MaxEntries)
            return -Errno.ENOSPC;
        if (!pathExists && !TryDescend(words, at.Level, create: true, out nodeIndex))
            return -Errno.ENOMEM;
        if (!TryAllocateSlot(out var slot))
        {
            Prune(at.Level, nodeIndex);
            return -Errno.ENOMEM;
        }
        // The new prefix's parent is whatever its first entry's chain holds below its length (all of its entries
        // agree); entries that held the parent now hold the new prefix, and chains that reached the parent from
        // longer prefixes now stop at the new one first.
        var parent = ShorterThan(BestOf(at.Level, nodeIndex, at.First), (uint)prefixlen);
        slots.Fill(slot, value, ValueSize, data, (uint)prefixlen, parent);
        Rewrite(at, nodeIndex, displaced: parent, replacement: slot + 1);
        SetBit(pools[at.Level].Presence(nodeIndex), (1L << at.Relative) + at.Pattern, true);
        pools[at.Level].Meta(nodeIndex)->OwnCount++;
        count++;
        return 0;
    }

    private int DeletePrefix(ulong* words, int prefixlen)
    {
        var at = new Place(this, words, prefixlen);
        if (!TryDescend(words, at.Level, create: false, out var nodeIndex) || !IsPresent(at.Level, nodeIndex, at.Relative, at.Pattern))
            return -Errno.ENOENT;
        var old = ExactRef(at.Level, nodeIndex, at.First, (uint)prefixlen);
        if (old == 0)
            return -Errno.ENOENT;
        Rewrite(at, nodeIndex, displaced: old, replacement: slots.ParentOfRef(old));
        SetBit(pools[at.Level].Presence(nodeIndex), (1L << at.Relative) + at.Pattern, false);
        pools[at.Level].Meta(nodeIndex)->OwnCount--;
        count--;
        slots.Free(old - 1);
        Prune(at.Level, nodeIndex);
        return 0;
    }

    /// <summary>
    /// Over the prefix's range: entries whose best is <paramref name="displaced"/> get <paramref name="replacement"/>,
    /// and longer prefixes whose chain went straight from inside the range to <paramref name="displaced"/> are relinked
    /// to <paramref name="replacement"/>. Each step is one word written, so readers see each entry old or new.
    /// </summary>
    private void Rewrite(in Place at, uint nodeIndex, uint displaced, uint replacement)
    {
        var node = pools[at.Level].Node(nodeIndex);
        var previous = uint.MaxValue;
        for (var entry = at.First; entry < at.First + at.Span; entry++)
        {
            var best = BestOf(at.Level, node, entry);
            if (best == displaced)
                SetBest(at.Level, node, entry, replacement);
            else if (best != previous && best != 0 && slots.LengthOfRef(best) > (uint)at.Length)
                Relink(best, (uint)at.Length, displaced, replacement);
            previous = best;
        }
    }

    private void Relink(uint reference, uint length, uint displaced, uint replacement)
    {
        while (true)
        {
            var parent = slots.ParentOfRef(reference);
            if (parent == displaced)
            {
                slots.SetParent(reference, replacement);
                return;
            }
            if (parent == 0 || slots.LengthOfRef(parent) <= length)
                return;
            reference = parent;
        }
    }

    private bool TryAllocateSlot(out uint slot)
    {
        if (slots.TryAllocate(out slot))
            return true;
        blockedUntil = slots.BlockedUntil;
        return false;
    }

    /// <summary>Walks from the root to the node of <paramref name="targetLevel"/> on the key's path, creating missing nodes if asked.</summary>
    private bool TryDescend(ulong* words, int targetLevel, bool create, out uint nodeIndex)
    {
        uint index = 0;
        for (var level = 0; level < targetLevel; level++)
        {
            var node = pools[level].Node(index);
            var entryIndex = EntryIndex(level, words);
            var entry = node[1 + entryIndex];
            if ((int)entry < 0)
            {
                index = entry & IndexMask;
                continue;
            }
            if (!create || !pools[level + 1].TryAllocate(header: entry, out var child))
            {
                if (create)
                {
                    blockedUntil = pools[level + 1].BlockedUntil;
                    Prune(level, index);
                }
                nodeIndex = NodePool.None;
                return false;
            }
            var meta = pools[level + 1].Meta(child);
            meta->Parent = index;
            meta->ParentEntry = entryIndex;
            // The child starts out inheriting the entry's best match, so swapping the entry for it changes no answer.
            Volatile.Write(ref node[1 + entryIndex], ChildFlag | child);
            pools[level].Meta(index)->ChildCount++;
            SetBit(pools[level].ChildBits(index), entryIndex, true);
            index = child;
        }
        nodeIndex = index;
        return true;
    }

    /// <summary>Unlinks empty nodes from <paramref name="nodeIndex"/> upwards, giving each parent entry back its inherited best.</summary>
    private void Prune(int level, uint nodeIndex)
    {
        while (level > 0)
        {
            var pool = pools[level];
            var meta = pool.Meta(nodeIndex);
            if (meta->OwnCount != 0 || meta->ChildCount != 0)
                return;
            var parentIndex = meta->Parent;
            var parentEntry = meta->ParentEntry;
            var parentPool = pools[level - 1];
            Volatile.Write(ref parentPool.Node(parentIndex)[1 + parentEntry], pool.Node(nodeIndex)[0]);
            parentPool.Meta(parentIndex)->ChildCount--;
            SetBit(parentPool.ChildBits(parentIndex), parentEntry, false);
            pool.Free(nodeIndex);
            level--;
            nodeIndex = parentIndex;
        }
    }

    private uint EntryIndex(int level, ulong* words) =>
        (uint)(words[levels[level].Word] >> levels[level].Shift) & levels[level].Mask;

    private uint BestOf(int level, uint nodeIndex, uint entry) => BestOf(level, pools[level].Node(nodeIndex), entry);

    private uint BestOf(int level, uint* node, uint entry)
    {
        var word = node[1 + entry];
        return (int)word < 0 ? pools[level + 1].Node(word & IndexMask)[0] : word;
    }

    private void SetBest(int level, uint* node, uint entry, uint reference)
    {
        var word = node[1 + entry];
        if ((int)word < 0)
            Volatile.Write(ref pools[level + 1].Node(word & IndexMask)[0], reference);
        else
            Volatile.Write(ref node[1 + entry], reference);
    }

    /// <summary>The first prefix on <paramref name="reference"/>'s chain shorter than <paramref name="length"/>, or 0.</summary>
    private uint ShorterThan(uint reference, uint length)
    {
        while (reference != 0 && slots.LengthOfRef(reference) >= length)
            reference = slots.ParentOfRef(reference);
        return reference;
    }

    /// <summary>
    /// The ref of the stored prefix of exactly <paramref name="length"/> covering <paramref name="entry"/>, called when
    /// its presence bit is set; 0 only if the node's bitmaps and chains disagree, which callers treat as absent.
    /// </summary>
    private uint ExactRef(int level, uint nodeIndex, uint entry, uint length)
    {
        var reference = BestOf(level, nodeIndex, entry);
        while (reference != 0 && slots.LengthOfRef(reference) > length)
            reference = slots.ParentOfRef(reference);
        var found = reference != 0 && slots.LengthOfRef(reference) == length;
        Debug.Assert(found, "presence bit without a prefix on the chain");
        return found ? reference : 0;
    }

    private bool IsPresent(int level, uint nodeIndex, int relative, uint pattern) =>
        GetBit(pools[level].Presence(nodeIndex), (1L << relative) + pattern);

    private static bool GetBit(ulong* bits, long index) => (bits[index >> 6] & (1UL << (int)(index & 63))) != 0;

    private static void SetBit(ulong* bits, long index, bool on)
    {
        if (on)
            bits[index >> 6] |= 1UL << (int)(index & 63);
        else
            bits[index >> 6] &= ~(1UL << (int)(index & 63));
    }

    /// <summary>Where a prefix of length ≥ 1 lives: its level, its relative depth and pattern there, and the entries it covers.</summary>
    private readonly struct Place
    {
        public Place(LpmTrieMap map, ulong* words, int length)
        {
            Length = length;
            Level = map.levelOfLength[length];
            ref readonly var level = ref map.levels[Level];
            Relative = length - level.Depth;
            var span = level.Stride - Relative;
            Pattern = map.EntryIndex(Level, words) >> span;
            First = Pattern << span;
            Span = 1u << span;
        }

        public int Length { get; }
        public int Level { get; }
        public int Relative { get; }
        public uint Pattern { get; }
        public uint First { get; }
        public uint Span { get; }
    }
}
