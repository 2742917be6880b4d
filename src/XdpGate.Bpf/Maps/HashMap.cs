using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH: one preallocated hash table whose per-CPU values and
/// LRU eviction are options chosen from the map type, after the kernel's kernel/bpf/hashtab.c.
/// </summary>
/// <remarks>
/// <para>Storage. Every element is allocated at creation in native memory and never moves: a node array (chain link,
/// 31-bit hash with the LRU reference bit on top, key), a value array (the <see cref="ValueRegion"/>, one contiguous
/// range of 8-byte aligned values; per-CPU maps keep one cache-line-aligned block per CPU), and, outside anything a
/// program can reach, a sequence counter and a "linked" byte per element.</para>
/// <para>Lookups take no lock. Buckets are singly linked chains of element indices ended by a "nulls" marker that
/// encodes the bucket number, as the kernel's hlist_nulls does: a deleted element keeps its link, so a reader standing
/// on it walks on; if the element was reused in another bucket the reader ends on that bucket's marker and restarts.
/// Elements only ever enter a chain at its head, so a reader that strays into a chain still walks all of it. One
/// window remains, in the kernel too: a lookup already past the head while a replacement links the new element at
/// the head and unlinks the old one sees neither. Here the bucket's lock word also counts writer sections (see
/// <see cref="SpinGate"/>); a replacement advances it between the two steps, and a miss is believed only if the word
/// did not move during the walk. Hits cost nothing extra; a miss reads one more word of a line it already has.</para>
/// <para>Writers (control-plane updates and deletes, program helper updates and deletes, LRU eviction) take the
/// bucket's spin lock (<see cref="SpinGate"/>, like the kernel's raw bucket locks); they hold at most one bucket lock
/// at a time, so there is no lock order.</para>
/// <para>Updating an existing key of a non-per-CPU map allocates a new element, links it in front of the old one and
/// then unlinks the old one, as the kernel does. A lock-free reader therefore finds either the complete old value or
/// the complete new one, including a program reading through a pointer it got from <see cref="LookupElem"/> (unless
/// the old element is reused meanwhile, see below). Per-CPU
/// maps update in place under the bucket lock (the kernel does too): a program sees its own CPU's slot change under
/// it only when the control plane rewrites all slots, and the control plane reads under the sequence counter.</para>
/// <para>Sequence counters (a seqlock per element) make control-plane copies consistent: every write of a published or
/// recycled element happens with the counter odd, under the bucket lock or on an element nobody else owns, and
/// <see cref="Lookup"/> and <see cref="GetNextKey"/> retry until they copied between two equal even readings (see
/// <see cref="SeqLock"/>; a reader that keeps losing to writers takes the element like a writer, which is why the
/// counter is taken by compare-and-swap even under the bucket lock). Stores a program makes through a value pointer
/// bypass the counter, as they bypass any lock in the kernel.</para>
/// <para>Deleted elements are not reused until every older free element has been (<see cref="ElementQueue"/>), and
/// non-per-CPU maps keep <see cref="ReplacementReserve"/> elements beyond max_entries for replacements, as the kernel
/// keeps an extra element per CPU. There is no RCU grace period: like the kernel's preallocated maps, a program that
/// keeps a value pointer across a delete may see the element reused once the free elements have cycled.</para>
/// </remarks>
public sealed unsafe partial class HashMap : BpfMap
{
    /// <summary>Set in a chain link when it is a bucket's terminator rather than an element index.</summary>
    private const uint NullsBit = 0x8000_0000;

    private const uint HashMask = 0x7FFF_FFFF;
    private const uint ReferencedBit = 0x8000_0000;
    private const int NodeHeader = 8;

    /// <summary>The cpu argument meaning "all slots, in the control plane's layout".</summary>
    private const int AllCpus = -1;

    private readonly bool perCpu;
    private readonly bool lru;
    private readonly ulong seed;
    private readonly int keySize;
    private readonly int valueSize;
    private readonly int maxEntries;
    private readonly int capacity;
    private readonly uint bucketMask;
    private readonly nint nodeStride;
    private readonly nint slotSize;
    private readonly nint cpuStride;
    private readonly nint valueBytes;
    private readonly bool syscallReadOnly;
    private readonly bool syscallWriteOnly;
    private readonly bool programReadOnly;
    private readonly ElementQueue free;

    private Bucket* buckets;
    private byte* nodes;
    private byte* values;
    private SeqLock sequences; // not readonly: Free clears it in place
    private byte* linked;
    private int count;
    private long clockHand;
    private int disposed;

    /// <summary>Creates a preallocated hash map of any of the four hash types, checking the definition as the kernel does.</summary>
    /// <exception cref="BpfLoadException">The definition is refused; the message names the map, the problem and the errno.</exception>
    public HashMap(MapDefinition definition, int possibleCpus) : base(Checked(definition, possibleCpus), possibleCpus)
    {
        var type = definition.Type;
        perCpu = type is bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH;
        lru = type is bpf_map_type.BPF_MAP_TYPE_LRU_HASH or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH;
        seed = (definition.Flags & MapFlags.BPF_F_ZERO_SEED) != 0 ? 0 : (ulong)Random.Shared.NextInt64();
        keySize = (int)definition.KeySize;
        valueSize = (int)definition.ValueSize;
        syscallReadOnly = (definition.Flags & MapFlags.BPF_F_RDONLY) != 0;
        syscallWriteOnly = (definition.Flags & MapFlags.BPF_F_WRONLY) != 0;
        programReadOnly = (definition.Flags & MapFlags.BPF_F_RDONLY_PROG) != 0;

        // Per-CPU maps update in place and never need a spare element to swap in.
        var reserve = perCpu ? 0 : ReplacementReserveFor(possibleCpus);
        maxEntries = (int)definition.MaxEntries;
        capacity = maxEntries + reserve;
        var bucketCount = RoundUpToPowerOf2(definition.MaxEntries);
        bucketMask = bucketCount - 1;
        nodeStride = NodeHeader + RoundUp8(keySize);
        slotSize = RoundUp8(valueSize);
        cpuStride = (slotSize * capacity + 63) & ~(nint)63; // each CPU's block starts on its own cache line
        valueBytes = cpuStride * (perCpu ? possibleCpus : 1);

        try
        {
            buckets = (Bucket*)AllocZeroed((nuint)bucketCount * (nuint)sizeof(Bucket));
            nodes = (byte*)AllocZeroed((nuint)nodeStride * (nuint)capacity);
            values = (byte*)AllocZeroed((nuint)valueBytes);
            sequences = SeqLock.Allocate(capacity);
            linked = (byte*)AllocZeroed((nuint)capacity);
            free = new ElementQueue(capacity);
        }
        catch (OutOfMemoryException e)
        {
            FreeStorage();
            base.Dispose(true);
            throw new BpfLoadException($"map '{definition.Name}': cannot preallocate {capacity} elements (ENOMEM)", e);
        }

        for (var i = 0u; i < bucketCount; i++)
            buckets[i].Head = NullsBit | i;
    }

    /// <summary>Spare elements of a non-per-CPU map, one per concurrent replacing writer: every CPU's worker plus
    /// a few control-plane threads. More concurrent replacements than this fail with -ENOMEM until one finishes.</summary>
    public static int ReplacementReserveFor(int possibleCpus) => possibleCpus + 16;

    /// <summary>Spare elements beyond max_entries this map keeps for replacements.</summary>
    public int ReplacementReserve => capacity - MaxEntries;

    public override bool IsPerCpu => perCpu;

    /// <summary>LRU maps evict an old element instead of refusing an insert into a full map.</summary>
    public bool IsLru => lru;

    /// <summary>Elements in the map (momentarily including inserts in progress).</summary>
    public int Count => Volatile.Read(ref count);

    public override MemoryRegion ValueRegion =>
        disposed != 0 ? MemoryRegion.Empty : new((nint)values, valueBytes, Writable: !programReadOnly);

    /// <summary>A chain head and its writers' lock, side by side as in the kernel's struct bucket.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Bucket
    {
        public uint Head;
        public int Gate;
    }

    // A node is { uint next; uint hash word; key, padded to 8 }. The hash word holds a 31-bit hash and, in its top
    // bit, the LRU reference: on the line a lookup has just read, without making nodes bigger.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Node(int index) => nodes + index * nodeStride;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref uint NextOf(byte* node) => ref *(uint*)node;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref uint HashWordOf(byte* node) => ref *(uint*)(node + 4);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* KeyOf(byte* node) => node + NodeHeader;

    /// <summary>The key's hash as nodes store it, top bit clear.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint HashOf(byte* key) => KeyHash.Compute(key, keySize, seed) & HashMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Bucket* BucketOf(uint hash) => buckets + (hash & bucketMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint NullsOf(uint hash, uint mask) => NullsBit | (hash & mask);

    /// <summary>The value of a non-per-CPU element, or one CPU's slot of a per-CPU element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Slot(int index, int cpu) => values + cpu * cpuStride + index * slotSize;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed != 0, this);

    private static uint RoundUpToPowerOf2(uint n) => System.Numerics.BitOperations.RoundUpToPowerOf2(n);

    private static void* AllocZeroed(nuint bytes)
    {
        var p = NativeMemory.AlignedAlloc(bytes == 0 ? 1 : bytes, 64);
        NativeMemory.Clear(p, bytes);
        return p;
    }

    private void FreeStorage()
    {
        NativeMemory.AlignedFree(buckets);
        NativeMemory.AlignedFree(nodes);
        NativeMemory.AlignedFree(values);
        sequences.Free();
        NativeMemory.AlignedFree(linked);
        buckets = null;
        nodes = null;
        values = null;
        linked = null;
    }

    /// <summary>
    /// Frees the native storage. Programs must no longer run against the map: like the kernel, which frees a map only
    /// when no program holds it, the caller is responsible for that ordering; the program-side methods of a disposed
    /// map return "not found" rather than touching freed memory when they notice.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
            return;
        base.Dispose(disposing);
        FreeStorage();
        free?.Dispose();
    }
}
