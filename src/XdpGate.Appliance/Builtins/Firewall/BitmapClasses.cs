namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>
/// The distinct rule bitmaps of all dimensions, each a class number: equal bitmaps (one per field value range, set
/// element or prefix) share a class, which is what keeps hundreds of thousands of set elements to a few bitmaps.
/// </summary>
internal sealed class BitmapClasses(int words)
{
    private readonly Dictionary<ulong[], uint> index = new(new WordsComparer());

    public int Words { get; } = words;

    public List<ulong[]> Bitmaps { get; } = [];

    public ulong[] NewBitmap() => new ulong[Words];

    /// <summary>The class of this bitmap's current contents (copied when new).</summary>
    public uint Intern(ulong[] bitmap)
    {
        if (index.TryGetValue(bitmap, out var known))
            return known;
        var copy = (ulong[])bitmap.Clone();
        var id = (uint)Bitmaps.Count;
        Bitmaps.Add(copy);
        index.Add(copy, id);
        return id;
    }

    public static void Set(ulong[] bitmap, int rule) => bitmap[rule >> 6] |= 1UL << (rule & 63);

    public static void Clear(ulong[] bitmap, int rule) => bitmap[rule >> 6] &= ~(1UL << (rule & 63));

    private sealed class WordsComparer : IEqualityComparer<ulong[]>
    {
        public bool Equals(ulong[]? x, ulong[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(ulong[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(obj.AsSpan()));
            return hash.ToHashCode();
        }
    }
}
