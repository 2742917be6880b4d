using System.Runtime.InteropServices;
using XdpGate.Bpf.Maps.Lpm;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// <c>BPF_MAP_TYPE_LPM_TRIE</c> with the kernel's semantics (kernel/bpf/lpm_trie.c) and a multibit trie underneath.
/// A key is <c>struct bpf_lpm_trie_key { __u32 prefixlen; __u8 data[]; }</c>: prefixlen in host order, data in network
/// order. Lookups return the value of the longest stored prefix that matches the key's data and is no longer than the
/// key's prefixlen; bits past a stored prefix's length are ignored.
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> A trie of levels (<see cref="TrieShape"/>: a wide root, then narrow strides). A prefix lives in
/// the one node whose level contains its last bit and is expanded over the entries it covers there (controlled prefix
/// expansion); each entry holds a 32-bit ref to the value slot of the longest prefix covering it, or the index of a
/// child node with the top bit set. Answers are pushed down: an entry no prefix of its own node covers holds the
/// answer inherited from above, and an entry that has a child keeps its own best in the child's header word, where
/// only the control plane looks. A lookup is therefore one dependent load per level and never backtracks: the answer
/// is the last entry reached, or /0 (kept in the root header) when that is empty.</para>
/// <para><b>Concurrency.</b> Lookups (programs and the control plane) take no lock and allocate nothing. Updates and
/// deletes, from programs or the control plane, serialize on one lock per map, as the kernel's do on its per-trie
/// spinlock. A writer fills a slot or node completely before linking it with one aligned 32-bit store, and rewrites a
/// prefix's expansion entry by entry, so a concurrent lookup sees, per entry, either the old or the new answer.
/// Unlinked slots and nodes are reused only after a grace period (see <see cref="DeferredFree"/>), where the kernel
/// waits for an RCU grace period. When churn outruns the spare capacity, a control-plane update waits (outside the
/// lock) for the oldest freed item to come of age, and an update from a program fails with -ENOMEM, as the kernel's
/// can when its allocator cache runs dry.</para>
/// <para><b>Shorter lookup keys.</b> With prefixlen below the key width, the walk stops at the level holding that
/// length and follows the slot chain (each slot links to the next shorter prefix of its node that covers it) down to
/// a prefix no longer than prefixlen.</para>
/// <para><b>Keys.</b> As in the kernel, a stored key keeps the data it was last written with, bits past prefixlen
/// included, and get_next_key returns it so; matching never looks at those bits.</para>
/// <para>Disposing the map frees its memory: no program may still use it (the kernel holds a reference instead).</para>
/// </remarks>
public sealed unsafe partial class LpmTrieMap : BpfMap
{
    // Kernel limits (lpm_trie.c): data 1..256 bytes; value at most KMALLOC_MAX_SIZE (4 MiB on x86-64 with 4 KiB pages
    // and MAX_PAGE_ORDER 10) less the largest data and sizeof(struct lpm_trie_node).
    public const int KeyHeaderSize = 4;
    public const int MinDataSize = 1;
    public const int MaxDataSize = 256;
    public const long MaxValueSize = (4L << 20) - MaxDataSize - 24;
    private const uint CreateFlagMask = MapFlags.BPF_F_NO_PREALLOC | MapFlags.BPF_F_NUMA_NODE | MapFlags.BPF_F_RDONLY
        | MapFlags.BPF_F_WRONLY | MapFlags.BPF_F_RDONLY_PROG | MapFlags.BPF_F_WRONLY_PROG;

    private const uint ChildFlag = 0x8000_0000;
    private const uint IndexMask = 0x7fff_ffff;

    private readonly Lock gate = new();
    private readonly NodePool[] pools;
    private readonly LpmLevel* levels;
    private readonly uint* root;
    private readonly ValueSlots slots;
    private readonly ulong* links;
    private readonly byte* slab;
    private readonly nuint slotStride;
    private readonly int dataSize;
    private readonly int maxBits;
    private readonly int wordCount;
    private readonly byte[] levelOfLength;
    private int count;
    private long blockedUntil;
    private bool disposed;

    public LpmTrieMap(MapDefinition definition, int possibleCpus = 1)
        : this(definition, possibleCpus, null)
    {
    }

    /// <summary>With an explicit shape (the strides of its levels), for tests that want many small levels and for benchmarks.</summary>
    internal LpmTrieMap(MapDefinition definition, int possibleCpus, TrieShape? shape)
        : base(Validate(definition), possibleCpus)
    {
        dataSize = KeySize - KeyHeaderSize;
        maxBits = dataSize * 8;
        wordCount = KeyWordReader.WordCount(dataSize);
        Shape = shape ?? TrieShape.For(maxBits, MaxEntries);
        if (Shape.KeyBits != maxBits)
            throw new ArgumentException($"map '{Name}': strides {Shape} are for {Shape.KeyBits}-bit keys, the map's are {maxBits}", nameof(shape));

        pools = new NodePool[Shape.Levels];
        levelOfLength = new byte[maxBits + 1];
        try
        {
            slots = new ValueSlots(ValueSize, dataSize, MaxEntries);
            links = slots.Links;
            slab = slots.Slab;
            slotStride = (nuint)slots.Stride;
            levels = (LpmLevel*)NativeMemory.AllocZeroed((nuint)Shape.Levels, (nuint)sizeof(LpmLevel));
            var depth = 0;
            for (var i = 0; i < Shape.Levels; i++)
            {
                var stride = Shape.Strides[i];
                // Nodes of a level have disjoint subtrees, each holding at least one prefix: at most min(paths, entries)
                // are live. The reserve beyond that serves while freed nodes wait out their grace period.
                var live = Math.Min(depth >= 40 ? long.MaxValue : 1L << depth, MaxEntries);
                var capacity = i == 0 ? 1 : live + Math.Clamp(MaxEntries / 8, 256, 1 << 16);
                var pool = pools[i] = new NodePool(stride, capacity);
                levels[i] = new LpmLevel
                {
                    Chunks = pool.Chunks,
                    ChunkShift = pool.ChunkShift,
                    ChunkMask = pool.ChunkMask,
                    NodeWords = pool.NodeWords,
                    Word = depth / 64,
                    Shift = 64 - depth % 64 - stride,
                    Mask = (1u << stride) - 1,
                    Depth = depth,
                    Stride = stride,
                };
                for (var length = depth + 1; length <= depth + stride; length++)
                    levelOfLength[length] = (byte)i;
                depth += stride;
            }
            if (!pools[0].TryAllocate(0, 0, out var rootIndex))
                throw new OutOfMemoryException();
            root = pools[0].Node(rootIndex);
        }
        catch (OutOfMemoryException e)
        {
            Dispose();
            throw new BpfLoadException($"map '{Name}': cannot allocate {MaxEntries} entries of {ValueSize} bytes (ENOMEM)", e);
        }
    }

    internal TrieShape Shape { get; }

    /// <summary>How long freed slots and nodes wait before reuse; tests shorten or lengthen it.</summary>
    internal TimeSpan GracePeriod
    {
        set
        {
            var ticks = (long)(value.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
            lock (gate)
            {
                slots.GracePeriod = ticks;
                foreach (var pool in pools)
                    pool.GracePeriod = ticks;
            }
        }
    }

    /// <summary>Prefixes stored.</summary>
    public int Count => Volatile.Read(ref count);

    /// <summary>
    /// Native bytes this map has allocated: the value slab and slot bookkeeping (sized by max_entries), node chunks,
    /// and their control-plane bitmaps. Large blocks are committed by the OS only where touched, so resident memory
    /// can be lower.
    /// </summary>
    public long MemoryUsage
    {
        get
        {
            lock (gate)
            {
                var total = slots.AllocatedBytes + (long)Shape.Levels * sizeof(LpmLevel);
                foreach (var pool in pools)
                    total += pool.AllocatedBytes;
                return total;
            }
        }
    }

    /// <summary>The value slab; read-only for programs when the map was created with BPF_F_RDONLY_PROG.</summary>
    public override MemoryRegion ValueRegion =>
        new((nint)slab, (nint)slots.SlabBytes, Writable: (Definition.Flags & MapFlags.BPF_F_RDONLY_PROG) == 0);

    private static MapDefinition Validate(MapDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Type != bpf_map_type.BPF_MAP_TYPE_LPM_TRIE)
            throw new ArgumentException($"map '{definition.Name}' is {definition.Type}, not BPF_MAP_TYPE_LPM_TRIE", nameof(definition));
        var flags = definition.Flags;
        var problem =
            definition.MaxEntries == 0 ? "max_entries is 0"
            : (flags & MapFlags.BPF_F_NO_PREALLOC) == 0 ? "needs map_flags BPF_F_NO_PREALLOC"
            : (flags & ~CreateFlagMask) != 0 ? $"does not take map_flags 0x{flags & ~CreateFlagMask:x}"
            : (flags & (MapFlags.BPF_F_RDONLY_PROG | MapFlags.BPF_F_WRONLY_PROG)) == (MapFlags.BPF_F_RDONLY_PROG | MapFlags.BPF_F_WRONLY_PROG)
                ? "has both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG"
            : (flags & (MapFlags.BPF_F_RDONLY | MapFlags.BPF_F_WRONLY)) == (MapFlags.BPF_F_RDONLY | MapFlags.BPF_F_WRONLY)
                ? "has both BPF_F_RDONLY and BPF_F_WRONLY"
            : definition.KeySize < KeyHeaderSize + MinDataSize || definition.KeySize > KeyHeaderSize + MaxDataSize
                ? $"key_size {definition.KeySize} is outside {KeyHeaderSize + MinDataSize}..{KeyHeaderSize + MaxDataSize}"
            : definition.ValueSize < 1 || definition.ValueSize > MaxValueSize
                ? $"value_size {definition.ValueSize} is outside 1..{MaxValueSize}"
            : null;
        if (problem is not null)
            throw new BpfLoadException($"map '{definition.Name}': BPF_MAP_TYPE_LPM_TRIE {problem} (EINVAL)");
        // Refs are 31 bits and the slab is preallocated; the kernel allocates nodes on demand and has no such bound.
        if (definition.MaxEntries > 1u << 30)
            throw new BpfLoadException($"map '{definition.Name}': max_entries {definition.MaxEntries} is more than this LPM trie supports ({1u << 30}) (E2BIG)");
        return definition;
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposed)
        {
            disposed = true;
            slots?.Dispose();
            if (pools is not null)
            {
                foreach (var pool in pools)
                    pool?.Dispose();
            }
            NativeMemory.Free(levels);
        }
        base.Dispose(disposing);
    }
}
