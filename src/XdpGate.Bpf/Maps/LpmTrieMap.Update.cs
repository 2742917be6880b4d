using System.Diagnostics;
using System.Runtime.CompilerServices;
using XdpGate.Bpf.Maps.Lpm;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

// Updates and deletes, under the map's lock.
//
// A prefix of length L (L >= 1) lives in the node of level(L) on its path, at relative depth l = L - Depth, pattern
// p = its top l bits of that level; it covers that node's entries [p << (Stride - l), (p + 1) << (Stride - l)).
// An entry's own best is the longest prefix of its node covering it; it sits in the entry itself, or, when the entry
// has a child, in the child's header word. Every slot links to the next shorter prefix of its node that covers it.
// Entries without an own best hold the best inherited from the levels above (leaf pushing), so a lookup never looks
// at headers: entries holding a prefix no longer than the node's depth are such pushed copies. Adding, replacing or
// removing a prefix rewrites its own range (entries whose own best was displaced take the replacement, chains through
// it are relinked) and pushes the change into the children under that range whose own best does not hide it.
// /0 is kept apart in the root's header word, so it is neither expanded nor pushed.
public sealed unsafe partial class LpmTrieMap
{
    public override int UpdateElem(byte* key, byte* value, ulong flags, int cpu) => UpdateCore(key, value, flags, mayWait: false);

    public override int DeleteElem(byte* key) => DeleteCore(key);

    protected override int UpdateValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        CheckSizes(key, value.Length);
        fixed (byte* k = key)
        fixed (byte* v = value)
            return UpdateCore(k, v, flags, mayWait: true);
    }

    protected override int DeleteValue(ReadOnlySpan<byte> key)
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
        var pathExists = TryDescend(words, at.Level, create: false, out var nodeIndex, out var inherited);
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
            Rewrite(at, nodeIndex, inherited, displaced: old, replacement: replacement + 1);
            slots.Free(old - 1);
            return 0;
        }

        if (flags == MapFlags.BPF_EXIST)
            return -Errno.ENOENT;
        if (count >= MaxEntries)
            return -Errno.ENOSPC;
        if (!pathExists && !TryDescend(words, at.Level, create: true, out nodeIndex, out inherited))
            return -Errno.ENOMEM;
        if (!TryAllocateSlot(out var slot))
        {
            Prune(at.Level, nodeIndex);
            return -Errno.ENOMEM;
        }
        // The new prefix's parent is whatever its first entry's chain holds below its length (all of its entries
        // agree); entries that held the parent now hold the new prefix, and chains that reached the parent from
        // longer prefixes now stop at the new one first.
        var parent = ShorterThan(OwnBest(at.Level, pools[at.Level].Node(nodeIndex), at.First), (uint)prefixlen);
        slots.Fill(slot, value, ValueSize, data, (uint)prefixlen, parent);
        Rewrite(at, nodeIndex, inherited, displaced: parent, replacement: slot + 1);
        SetBit(pools[at.Level].Presence(nodeIndex), (1L << at.Relative) + at.Pattern, true);
        pools[at.Level].Meta(nodeIndex)->OwnCount++;
        count++;
        return 0;
    }

    private int DeletePrefix(ulong* words, int prefixlen)
    {
        var at = new Place(this, words, prefixlen);
        if (!TryDescend(words, at.Level, create: false, out var nodeIndex, out var inherited)
            || !IsPresent(at.Level, nodeIndex, at.Relative, at.Pattern))
            return -Errno.ENOENT;
        var old = ExactRef(at.Level, nodeIndex, at.First, (uint)prefixlen);
        if (old == 0)
            return -Errno.ENOENT;
        Rewrite(at, nodeIndex, inherited, displaced: old, replacement: slots.ParentOfRef(old));
        SetBit(pools[at.Level].Presence(nodeIndex), (1L << at.Relative) + at.Pattern, false);
        pools[at.Level].Meta(nodeIndex)->OwnCount--;
        count--;
        slots.Free(old - 1);
        Prune(at.Level, nodeIndex);
        return 0;
    }

    /// <summary>
    /// Over the prefix's range: entries whose own best is <paramref name="displaced"/> get <paramref name="replacement"/>
    /// (or, for 0, what the node inherits), and longer prefixes whose chain went straight from inside the range to
    /// <paramref name="displaced"/> are relinked to <paramref name="replacement"/>. Each step is one word written, so
    /// readers see each entry old or new.
    /// </summary>
    private void Rewrite(in Place at, uint nodeIndex, uint inherited, uint displaced, uint replacement)
    {
        var node = pools[at.Level].Node(nodeIndex);
        var previous = uint.MaxValue;
        for (var entry = at.First; entry < at.First + at.Span; entry++)
        {
            var own = OwnBest(at.Level, node, entry);
            if (own == displaced)
                SetOwnBest(at.Level, node, entry, replacement, inherited);
            else if (own != previous && own != 0 && slots.LengthOfRef(own) > (uint)at.Length)
                Relink(own, (uint)at.Length, displaced, replacement);
            previous = own;
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

    /// <summary>
    /// Walks from the root to the node of <paramref name="targetLevel"/> on the key's path, creating missing nodes if
    /// asked; <paramref name="inherited"/> is what that node's entries without an own best hold.
    /// </summary>
    private bool TryDescend(ulong* words, int targetLevel, bool create, out uint nodeIndex, out uint inherited)
    {
        uint index = 0;
        inherited = 0;
        for (var level = 0; level < targetLevel; level++)
        {
            var node = pools[level].Node(index);
            var entryIndex = EntryIndex(level, words);
            var entry = node[1 + entryIndex];
            if ((int)entry < 0)
            {
                index = entry & IndexMask;
                var own = pools[level + 1].Node(index)[0];
                inherited = own != 0 ? own : inherited;
                continue;
            }
            // A new child takes the entry's own best as its header and the entry's answer in every entry, so
            // swapping the entry for it changes no lookup.
            var header = OwnBest(level, node, entryIndex);
            if (!create || !pools[level + 1].TryAllocate(header, fill: entry, out var child))
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
            Volatile.Write(ref node[1 + entryIndex], ChildFlag | child);
            pools[level].Meta(index)->ChildCount++;
            SetBit(pools[level].ChildBits(index), entryIndex, true);
            index = child;
            inherited = entry;
        }
        nodeIndex = index;
        return true;
    }

    /// <summary>Unlinks empty nodes from <paramref name="nodeIndex"/> upwards, giving each parent entry back its answer.</summary>
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
            // With no prefix and no child of its own, every entry of the node holds the answer pushed into it.
            Volatile.Write(ref parentPool.Node(parentIndex)[1 + parentEntry], pool.Node(nodeIndex)[1]);
            parentPool.Meta(parentIndex)->ChildCount--;
            SetBit(parentPool.ChildBits(parentIndex), parentEntry, false);
            pool.Free(nodeIndex);
            level--;
            nodeIndex = parentIndex;
        }
    }

    private uint EntryIndex(int level, ulong* words) =>
        (uint)(words[levels[level].Word] >> levels[level].Shift) & levels[level].Mask;

    /// <summary>The longest prefix of the node covering an entry (in the entry, or its child's header), or 0.</summary>
    private uint OwnBest(int level, uint* node, uint entry)
    {
        var word = node[1 + entry];
        if ((int)word < 0)
            return pools[level + 1].Node(word & IndexMask)[0];
        return word != 0 && slots.LengthOfRef(word) > (uint)levels[level].Depth ? word : 0;
    }

    private void SetOwnBest(int level, uint* node, uint entry, uint reference, uint inherited)
    {
        var word = node[1 + entry];
        var answer = reference != 0 ? reference : inherited;
        if ((int)word >= 0)
        {
            Volatile.Write(ref node[1 + entry], answer);
            return;
        }
        var child = word & IndexMask;
        var header = &pools[level + 1].Node(child)[0];
        var before = *header != 0 ? *header : inherited;
        Volatile.Write(ref *header, reference);
        if (answer != before)
            Push(level + 1, child, answer);
    }

    /// <summary>Gives the entries of a node (and below) that have no own best the new inherited answer.</summary>
    private void Push(int level, uint nodeIndex, uint inherited)
    {
        var pool = pools[level];
        var node = pool.Node(nodeIndex);
        var depth = (uint)levels[level].Depth;
        for (uint entry = 0; entry < pool.Entries; entry++)
        {
            var word = node[1 + entry];
            if ((int)word < 0)
            {
                // A child whose header holds a prefix passes that on, whatever comes from above.
                var child = word & IndexMask;
                if (pools[level + 1].Node(child)[0] == 0)
                    Push(level + 1, child, inherited);
            }
            else if ((word == 0 || slots.LengthOfRef(word) <= depth) && word != inherited)
            {
                Volatile.Write(ref node[1 + entry], inherited);
            }
        }
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
        var reference = OwnBest(level, pools[level].Node(nodeIndex), entry);
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
