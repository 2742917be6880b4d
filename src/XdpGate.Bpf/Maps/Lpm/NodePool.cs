using System.Runtime.InteropServices;

namespace XdpGate.Bpf.Maps.Lpm;

/// <summary>Control-plane bookkeeping of one trie node; lookups never read it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NodeMeta
{
    /// <summary>Prefixes stored in this node (lengths Depth+1 .. Depth+Stride).</summary>
    public int OwnCount;
    public int ChildCount;
    public uint NextFree;
    public uint Parent;
    public uint ParentEntry;
    public uint Reserved;
    public long FreedAt;
}

/// <summary>
/// The nodes of one trie level, in chunks of native memory that never move, so a lock-free reader can follow a child
/// index while the writer allocates. Freed nodes are reused oldest first and only after the grace period of
/// <see cref="DeferredFree"/>; capacity beyond the most nodes the level can need lets new nodes be made meanwhile.
/// </summary>
/// <remarks>
/// A node is 32-bit words: word 0, the header, is the ref of the longest prefix of the level above that covers the
/// whole node (0 if none), read by the control plane and prefixlen-limited lookups only; words 1..2^Stride are the
/// entries, which carry the answer from above (the header, or what the levels above pass down) wherever the node has no
/// prefix of its own. Beside each node, outside anything a reader touches, is its <see cref="NodeMeta"/> followed by
/// two bitmaps: which prefixes the node stores (heap order: length l, pattern p at bit 2^l + p) and which entries have
/// a child. Iteration and exact-match searches use the bitmaps.
/// </remarks>
internal sealed unsafe class NodePool : IDisposable
{
    public const uint None = uint.MaxValue;
    private const long TargetChunkBytes = 1 << 20;

    private readonly int chunkShift;
    private readonly uint chunkMask;
    private readonly int chunkCount;
    private readonly nint* metaChunks;
    private readonly uint capacity;
    private uint highWater;
    private FreeQueue freed = new();
    private bool disposed;

    public NodePool(int stride, long capacity)
    {
        Stride = stride;
        this.capacity = (uint)Math.Clamp(capacity, 1, int.MaxValue);
        NodeWords = (1u << stride) + 1;
        PresenceWords = (int)(((2L << stride) + 63) / 64);
        ChildWords = (int)(((1L << stride) + 63) / 64);
        MetaBytes = sizeof(NodeMeta) + 8L * (PresenceWords + ChildWords);

        var perChunk = Math.Max(1, TargetChunkBytes / (NodeWords * 4L));
        var shift = 0;
        while ((2L << shift) <= perChunk && (1L << shift) < this.capacity)
            shift++;
        chunkShift = shift;
        chunkMask = (1u << shift) - 1;
        chunkCount = (int)((this.capacity + (1L << shift) - 1) >> shift);
        Chunks = (nint*)NativeMemory.AllocZeroed((nuint)chunkCount, (nuint)sizeof(nint));
        metaChunks = (nint*)NativeMemory.AllocZeroed((nuint)chunkCount, (nuint)sizeof(nint));
        AllocatedBytes = 2L * chunkCount * sizeof(nint);
    }

    public int Stride { get; }
    public uint Entries => 1u << Stride;
    public uint NodeWords { get; }
    public int PresenceWords { get; }
    public int ChildWords { get; }
    public long MetaBytes { get; }
    public nint* Chunks { get; }
    public int ChunkShift => chunkShift;
    public uint ChunkMask => chunkMask;
    public long AllocatedBytes { get; private set; }

    /// <summary>Stopwatch ticks a freed item waits before reuse.</summary>
    public long GracePeriod { get; set; } = DeferredFree.DefaultGracePeriod;

    /// <summary>After a failed <see cref="TryAllocate"/>: when the oldest freed node may be reused, or 0 if none is queued.</summary>
    public long BlockedUntil { get; private set; }

    public uint* Node(uint index) => (uint*)Chunks[index >> chunkShift] + (nuint)(index & chunkMask) * NodeWords;

    public NodeMeta* Meta(uint index) => (NodeMeta*)((byte*)metaChunks[index >> chunkShift] + (index & chunkMask) * MetaBytes);

    public ulong* Presence(uint index) => (ulong*)(Meta(index) + 1);

    public ulong* ChildBits(uint index) => Presence(index) + PresenceWords;

    /// <summary>A node with the given header and every entry <paramref name="fill"/>, or false when the level is at capacity or memory ran out.</summary>
    public bool TryAllocate(uint header, uint fill, out uint index)
    {
        BlockedUntil = 0;
        if (freed.TryPop(new FreeLinks(this), GracePeriod, out index, out var reusableAt))
        {
            NativeMemory.Clear(Meta(index), (nuint)MetaBytes);
            Fill(index, fill);
        }
        else if (highWater < capacity)
        {
            // Never used: zero as allocated, and left untouched when that will do, so the OS commits only the pages in use.
            var chunk = (int)(highWater >> chunkShift);
            if (Chunks[chunk] == 0 && !TryAllocateChunk(chunk))
            {
                index = None;
                return false;
            }
            index = highWater++;
            if (fill != 0)
                Fill(index, fill);
        }
        else
        {
            BlockedUntil = reusableAt;
            index = None;
            return false;
        }

        Node(index)[0] = header;
        return true;
    }

    /// <summary>
    /// Sets every entry. The node is not linked, but a reader that entered it in an earlier life may still be inside:
    /// each entry is written whole, so such a reader only ever sees a value that was valid at some point.
    /// </summary>
    private void Fill(uint index, uint value)
    {
        var entries = Node(index) + 1;
        for (nuint i = 0; i < Entries; i++)
            entries[i] = value;
    }

    /// <summary>Queues an unlinked node for reuse; readers may still be inside it, so it stays as it is until then.</summary>
    public void Free(uint index) => freed.Push(new FreeLinks(this), index);

    private readonly struct FreeLinks(NodePool pool) : IFreeLinks
    {
        public ref uint NextFree(uint index) => ref pool.Meta(index)->NextFree;

        public ref long FreedAt(uint index) => ref pool.Meta(index)->FreedAt;
    }

    private bool TryAllocateChunk(int chunk)
    {
        var nodes = 1L << chunkShift;
        var nodeBytes = nodes * NodeWords * 4;
        var metaBytes = nodes * MetaBytes;
        void* nodeMemory = null;
        void* metaMemory;
        try
        {
            // Zeroed memory from the OS is committed lazily: a 64 MiB root costs only the pages prefixes touch.
            nodeMemory = NativeMemory.AllocZeroed((nuint)nodeBytes);
            metaMemory = NativeMemory.AllocZeroed((nuint)metaBytes);
        }
        catch (OutOfMemoryException)
        {
            NativeMemory.Free(nodeMemory);
            return false;
        }
        metaChunks[chunk] = (nint)metaMemory;
        Volatile.Write(ref Chunks[chunk], (nint)nodeMemory);
        AllocatedBytes += nodeBytes + metaBytes;
        return true;
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        for (var i = 0; i < chunkCount; i++)
        {
            NativeMemory.Free((void*)Chunks[i]);
            NativeMemory.Free((void*)metaChunks[i]);
        }
        NativeMemory.Free(Chunks);
        NativeMemory.Free(metaChunks);
    }
}
