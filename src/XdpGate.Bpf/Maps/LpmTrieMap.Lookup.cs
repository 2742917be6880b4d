using System.Runtime.CompilerServices;
using XdpGate.Bpf.Maps.Lpm;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

// Lock-free longest-prefix-match lookups, shared by programs and the control plane.
//
// Safety against a concurrent writer rests on three facts: every entry, header and link is one aligned 32- or 64-bit
// word written whole; a ref or child index, once written anywhere, stays a valid index for the life of the map (slots
// and nodes are recycled, never released); and a level's nodes only hold children of the next level, so the walk ends
// within Shape.Levels steps. A racing lookup can thus return an answer that was right a moment ago, never a wild pointer.
// The loads are plain: each depends on the address produced by the previous one, which orders them on every CPU .NET
// runs on, and the writer publishes with release stores.
public sealed unsafe partial class LpmTrieMap
{
    public override byte* LookupElem(byte* key, int cpu)
    {
        var reference = Find(key);
        return reference == 0 ? null : slab + (nuint)(reference - 1) * slotStride;
    }

    /// <summary>The ref (slot + 1) of the longest prefix matching <paramref name="key"/>, or 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Find(byte* key)
    {
        var prefixlen = Unsafe.ReadUnaligned<uint>(key);
        var data = key + KeyHeaderSize;
        if (prefixlen == (uint)maxBits)
        {
            if (wordCount == 1)
            {
                var words = new OneWord(data, dataSize);
                return Walk(ref words);
            }
            if (wordCount == 2)
            {
                var words = new TwoWords(data, dataSize);
                return Walk(ref words);
            }
            return FindLongKey(data, prefixlen);
        }
        if (prefixlen > (uint)maxBits)
            return 0;
        if (wordCount == 1)
        {
            var words = new OneWord(data, dataSize);
            return WalkLimited(ref words, prefixlen);
        }
        if (wordCount == 2)
        {
            var words = new TwoWords(data, dataSize);
            return WalkLimited(ref words, prefixlen);
        }
        return FindLongKey(data, prefixlen);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private uint FindLongKey(byte* data, uint prefixlen)
    {
        var buffer = stackalloc ulong[wordCount];
        KeyWordReader.Fill(data, dataSize, buffer, maxBits);
        var words = new ManyWords(buffer);
        return prefixlen == (uint)maxBits ? Walk(ref words) : WalkLimited(ref words, prefixlen);
    }

    /// <summary>
    /// The full-length walk: one dependent load per level. Entries hold their answer (own or pushed down from above),
    /// so the last entry is the answer, or /0 from the root header when it is empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Walk<TWords>(ref TWords words) where TWords : struct, IKeyWords
    {
        var level = levels;
        var top = root;
        var entry = top[1 + (nuint)((uint)(words[0] >> level->Shift) & level->Mask)];
        while ((int)entry < 0)
        {
            level++;
            entry = level->Node(entry & IndexMask)[1 + (nuint)((uint)(words[level->Word] >> level->Shift) & level->Mask)];
        }
        return entry != 0 ? entry : top[0];
    }

    /// <summary>
    /// The walk for a key whose prefixlen is below the key width: only stored prefixes no longer than it may match.
    /// Levels that end at or before prefixlen are walked as usual; in the level holding prefixlen the entry's own best
    /// (the entry, or its child's header) is followed down its chain of shorter covering prefixes until one fits. An
    /// entry holding a pushed-down answer is no longer than the level's depth, so it fits at once.
    /// </summary>
    private uint WalkLimited<TWords>(ref TWords words, uint prefixlen) where TWords : struct, IKeyWords
    {
        var level = levels;
        var node = root;
        var best = node[0];
        while (true)
        {
            var entry = node[1 + (nuint)((uint)(words[level->Word] >> level->Shift) & level->Mask)];
            uint* child = null;
            uint candidate;
            if ((int)entry < 0)
            {
                child = level[1].Node(entry & IndexMask);
                candidate = child[0];
            }
            else
            {
                candidate = entry;
            }

            var end = (uint)level->End;
            if (prefixlen < end)
            {
                candidate = ShortenTo(candidate, prefixlen, level->Stride);
                return candidate != 0 ? candidate : best;
            }
            if (candidate != 0)
                best = candidate;
            if (child is null || prefixlen == end)
                return best;
            node = child;
            level++;
        }
    }

    /// <summary>Follows a chain of covering prefixes (at most one per length of the level) to one no longer than the limit.</summary>
    private uint ShortenTo(uint reference, uint prefixlen, int stride)
    {
        for (var step = 0; reference != 0 && step <= stride; step++)
        {
            var link = links[reference - 1];
            if (ValueSlots.LengthOf(link) <= prefixlen)
                return reference;
            reference = ValueSlots.ParentOf(link);
        }
        return 0;
    }

    public override int Lookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckSizes(key, value.Length);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var attempts = 0;
            while (true)
            {
                var reference = Find(k);
                if (reference == 0)
                    return -Errno.ENOENT;
                var slot = reference - 1;
                var token = slots.ReadBegin(slot, ref attempts);
                Buffer.MemoryCopy(slots.Value(slot), v, value.Length, ValueSize);
                // The copy is good if the slot was not refilled while it ran and the key still leads to it, found by a
                // second walk inside the same read section: the slot cannot have been recycled for another prefix
                // between the two walks without its sequence moving. (A reader that keeps losing holds the slot like a
                // writer, see SeqLock; only the map's writer, never a program lookup, can wait on that.)
                var stillLeads = Find(k) == reference;
                if (!slots.ReadRetry(slot, token) && stillLeads)
                    return 0;
            }
        }
    }
}
