namespace XdpGate.Bpf.Maps.Lpm;

/// <summary>
/// How many key bits each level of the multibit trie consumes. The root takes a wide first stride (a direct-indexed
/// table), the levels below take narrow strides so that sparse long prefixes cost little memory.
/// </summary>
/// <remarks>
/// No stride crosses a multiple of 64 bits, so that a level's index is one shift and mask of one 64-bit key word.
/// Strides are at most 24 bits: a 24-bit root is 64 MiB of entries, and nothing wider pays for itself.
/// </remarks>
internal sealed class TrieShape
{
    public const int MaxStride = 24;

    public TrieShape(int keyBits, IReadOnlyList<int> strides)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keyBits, 1);
        ArgumentNullException.ThrowIfNull(strides);
        var depth = 0;
        foreach (var stride in strides)
        {
            if (stride < 1 || stride > MaxStride)
                throw new ArgumentException($"stride {stride} is outside 1..{MaxStride}", nameof(strides));
            if (depth % 64 + stride > 64)
                throw new ArgumentException($"stride {stride} at bit {depth} crosses a 64-bit word", nameof(strides));
            depth += stride;
        }
        if (depth != keyBits)
            throw new ArgumentException($"strides cover {depth} bits, the key has {keyBits}", nameof(strides));
        KeyBits = keyBits;
        Strides = [.. strides];
    }

    public int KeyBits { get; }
    public IReadOnlyList<int> Strides { get; }
    public int Levels => Strides.Count;

    /// <summary>
    /// The default shape. The root stride grows with max_entries (log2 + 4, rounded down to a multiple of 4, 8..24
    /// bits): a big table is dense near the root, so a wide root turns most lookups into one load, while a small map
    /// keeps a small root. Keys up to 32 bits (IPv4) then take 4-bit strides: below a wide root prefixes are sparse,
    /// and a 4-bit node (68 bytes) keeps a lone /28 or /32 cheap. Wider keys (IPv6) take a root of at most 16 bits and
    /// 8-bit strides down to bit 32, where real tables are dense (registry blocks, /32 allocations), then 4-bit strides
    /// for the sparse customer prefixes below. Multiples of 4 keep level ends on the common /16, /24, /32, /48, /64.
    /// </summary>
    public static TrieShape For(int keyBits, long maxEntries)
    {
        var log2 = 0;
        while (log2 < 40 && (1L << log2) < maxEntries)
            log2++;
        var root = Math.Clamp((log2 + 4) / 4 * 4, 8, MaxStride);
        if (keyBits <= 32)
            return Build(keyBits, [Math.Min(root, keyBits)], deepStride: 4);
        return Build(keyBits, [Math.Min(root, 16), 8, 8, 8], deepStride: 4, wideUntil: 32);
    }

    /// <summary>A root stride then equal strides, each cut short at 64-bit word boundaries and at the key's end.</summary>
    public static TrieShape Uniform(int keyBits, int rootStride, int deepStride) => Build(keyBits, [rootStride], deepStride);

    /// <summary>
    /// Leading strides (taken while they end at or before <paramref name="wideUntil"/>, if given) then
    /// <paramref name="deepStride"/>, each cut short at 64-bit word boundaries and at the key's end.
    /// </summary>
    private static TrieShape Build(int keyBits, int[] leading, int deepStride, int wideUntil = int.MaxValue)
    {
        var strides = new List<int>();
        var depth = 0;
        while (depth < keyBits)
        {
            var wanted = strides.Count < leading.Length && (strides.Count == 0 || depth + leading[strides.Count] <= wideUntil)
                ? leading[strides.Count]
                : deepStride;
            var stride = Math.Min(wanted, Math.Min(keyBits - depth, 64 - depth % 64));
            strides.Add(stride);
            depth += stride;
        }
        return new TrieShape(keyBits, strides);
    }

    public override string ToString() => string.Join('/', Strides);
}
