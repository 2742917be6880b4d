using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpGate.Bpf.Maps.Lpm;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

// get_next_key in the kernel's order: post-order over the binary trie of prefixes, so more specific prefixes come
// before the prefixes covering them, and a prefix's 0-branch before its 1-branch. For the example at the top of
// lpm_trie.c: 192.168.0.0/24, 192.168.1.0/24, 192.168.128.0/24, 192.168.0.0/16; /0, covering everything, comes last.
//
// Each node stores a small binary trie of depth Stride (positions: relative length l, pattern p), with child nodes
// hanging below its deepest positions; the presence and child bitmaps say which positions hold a prefix and which
// subtrees are non-empty, so the successor is found by climbing and descending positions, never by scanning prefixes.
// Iteration takes the map's lock (the kernel walks under RCU instead); lookups are not blocked by it.
public sealed unsafe partial class LpmTrieMap
{
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if (nextKey.Length != KeySize)
            throw new ArgumentException($"map '{Name}': next key buffer is {nextKey.Length} bytes, the map's key_size is {KeySize}", nameof(nextKey));
        if (!key.IsEmpty)
            CheckKeySize(key);
        lock (gate)
        {
            Cursor next;
            var found = key.IsEmpty || !TryLocate(key, out var at) ? TryFirst(out next) : TryNext(at, out next);
            if (!found)
                return -Errno.ENOENT;
            var reference = next.IsDefault
                ? root[0]
                : ExactRef(next.Level, next.Node, next.Pattern << (pools[next.Level].Stride - next.Relative), (uint)next.Length(this));
            if (reference == 0)
                return -Errno.ENOENT;
            var prefixlen = (uint)next.Length(this);
            MemoryMarshal.Write(nextKey, in prefixlen);
            new ReadOnlySpan<byte>(slots.Key(reference - 1), dataSize).CopyTo(nextKey[KeyHeaderSize..]);
            return 0;
        }
    }

    [SkipLocalsInit]
    private bool TryLocate(ReadOnlySpan<byte> key, out Cursor at)
    {
        at = default;
        var prefixlen = MemoryMarshal.Read<uint>(key);
        if (prefixlen > (uint)maxBits)
            return false;
        if (prefixlen == 0)
        {
            at = Cursor.Default;
            return root[0] != 0;
        }
        var words = stackalloc ulong[wordCount];
        fixed (byte* k = key)
            KeyWordReader.Fill(k + KeyHeaderSize, dataSize, words, (int)prefixlen);
        var place = new Place(this, words, (int)prefixlen);
        if (!TryDescend(words, place.Level, create: false, out var nodeIndex, out _) || !IsPresent(place.Level, nodeIndex, place.Relative, place.Pattern))
            return false;
        at = new Cursor(place.Level, nodeIndex, place.Relative, place.Pattern);
        return true;
    }

    private bool TryFirst(out Cursor first)
    {
        if (NonEmpty(0, 0, 1, 0))
            first = Leftmost(0, 0, 1, 0);
        else if (NonEmpty(0, 0, 1, 1))
            first = Leftmost(0, 0, 1, 1);
        else
        {
            first = Cursor.Default;
            return root[0] != 0;
        }
        return true;
    }

    /// <summary>The post-order successor of a stored prefix.</summary>
    private bool TryNext(Cursor at, out Cursor next)
    {
        next = Cursor.Default;
        if (at.IsDefault)
            return false;
        var (level, node, relative, pattern) = (at.Level, at.Node, at.Relative, at.Pattern);
        while (true)
        {
            // Coming up out of a 0-branch, the sibling 1-branch comes next; out of a 1-branch, the position itself.
            if ((pattern & 1) == 0 && NonEmpty(level, node, relative, pattern + 1))
            {
                next = Leftmost(level, node, relative, pattern + 1);
                return true;
            }
            if (relative > 1)
            {
                relative--;
                pattern >>= 1;
            }
            else if (level > 0)
            {
                var meta = pools[level].Meta(node);
                (node, pattern) = (meta->Parent, meta->ParentEntry);
                level--;
                relative = pools[level].Stride;
            }
            else
            {
                return root[0] != 0;
            }
            if (IsPresent(level, node, relative, pattern))
            {
                next = new Cursor(level, node, relative, pattern);
                return true;
            }
        }
    }

    /// <summary>The first prefix in post-order within the non-empty subtree at a position.</summary>
    private Cursor Leftmost(int level, uint node, int relative, uint pattern)
    {
        while (true)
        {
            if (relative < pools[level].Stride)
            {
                if (NonEmpty(level, node, relative + 1, pattern << 1))
                {
                    relative++;
                    pattern <<= 1;
                    continue;
                }
                if (NonEmpty(level, node, relative + 1, (pattern << 1) | 1))
                {
                    relative++;
                    pattern = (pattern << 1) | 1;
                    continue;
                }
                return new Cursor(level, node, relative, pattern);
            }
            var entry = pools[level].Node(node)[1 + pattern];
            if ((int)entry >= 0)
                return new Cursor(level, node, relative, pattern);
            // A child node exists only while its subtree holds a prefix, and that subtree comes before the entry itself.
            level++;
            node = entry & IndexMask;
            relative = 1;
            pattern = NonEmpty(level, node, 1, 0) ? 0u : 1u;
        }
    }

    /// <summary>Whether the subtree at a position holds a prefix: any presence bit below it, or a child under its entries.</summary>
    private bool NonEmpty(int level, uint node, int relative, uint pattern)
    {
        var pool = pools[level];
        var presence = pool.Presence(node);
        for (var depth = relative; depth <= pool.Stride; depth++)
        {
            var below = depth - relative;
            if (AnyBit(presence, (1L << depth) + ((long)pattern << below), 1L << below))
                return true;
        }
        var span = pool.Stride - relative;
        return AnyBit(pool.ChildBits(node), (long)pattern << span, 1L << span);
    }

    private static bool AnyBit(ulong* bits, long from, long count)
    {
        var end = from + count;
        while (from < end)
        {
            var bit = (int)(from & 63);
            var take = Math.Min(64 - bit, end - from);
            var mask = (take == 64 ? ulong.MaxValue : (1UL << (int)take) - 1) << bit;
            if ((bits[from >> 6] & mask) != 0)
                return true;
            from += take;
        }
        return false;
    }

    /// <summary>A stored prefix: its node and position there, or /0 (kept in the root header).</summary>
    private readonly record struct Cursor(int Level, uint Node, int Relative, uint Pattern, bool IsDefault = false)
    {
        public static Cursor Default => new(0, 0, 0, 0, IsDefault: true);

        public int Length(LpmTrieMap map) => IsDefault ? 0 : map.levels[Level].Depth + Relative;
    }
}
