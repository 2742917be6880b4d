namespace XdpGate.Bpf.Maps.Lpm;

/// <summary>
/// How many key bits each level of the multibit trie consumes. The root takes a wide first stride (a direct-indexed
/// table), the levels below take narrow strides so that sparse long prefixes cost little memory.
/// </summary>
/// <remarks>
/// No stride crosses a multiple of 64 bits, so that a level's index is one shift and mask of one 64-bit key word.
/// Strides are at most 24 bits: a 24-bit root is 64 MiB of entries, and nothing wider pays for itself.
/// </remarks>
internal sealed class StridePlan
{
    public const int MaxStride = 24;

    public StridePlan(int keyBits, IReadOnlyList<int> strides)
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
    /// The default plan. The root stride grows with max_entries (log2 + 4, 8..24 bits): a big table is dense near the
    /// root, so a wide root turns most lookups into one load, while a small map keeps a small root. Below the root
    /// every level takes <paramref name="deepStride"/> bits; 4-bit nodes (68 bytes) keep the cost of a lone long prefix
    /// (an IPv4 /32, an IPv6 /64) small, at the price of more levels for long prefixes.
    /// </summary>
    public static StridePlan For(int keyBits, long maxEntries, int deepStride = 4)
    {
        var log2 = 0;
        while (log2 < 40 && (1L << log2) < maxEntries)
            log2++;
        var root = Math.Min(keyBits, Math.Clamp(log2 + 4, 8, MaxStride));
        return Uniform(keyBits, root, deepStride);
    }

    /// <summary>A root stride then equal strides, each cut short at 64-bit word boundaries and at the key's end.</summary>
    public static StridePlan Uniform(int keyBits, int rootStride, int deepStride)
    {
        var strides = new List<int>();
        var depth = 0;
        var next = rootStride;
        while (depth < keyBits)
        {
            var stride = Math.Min(next, Math.Min(keyBits - depth, 64 - depth % 64));
            strides.Add(stride);
            depth += stride;
            next = deepStride;
        }
        return new StridePlan(keyBits, strides);
    }

    public override string ToString() => string.Join('/', Strides);
}
