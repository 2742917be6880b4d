using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XdpGate.Bpf.Maps.Lpm;

/// <summary>
/// One slot per stored prefix: its value in a preallocated native slab (the only memory programs reach through
/// returned pointers), its chain link, and control-plane bookkeeping (sequence number, key as written, free list).
/// Trie entries refer to a slot as <c>slot + 1</c> (a "ref"), so that 0 means no match.
/// </summary>
/// <remarks>
/// <para>A slot's value is written once, before the slot is linked into the trie; a changed value goes to a fresh slot
/// (as the kernel allocates a new node), so a program never sees a value half-replaced by an update. Programs that
/// write through the pointer they were given write in place, as with the kernel.</para>
/// <para>Freed slots are reused oldest first and only after the grace period of <see cref="DeferredFree"/>; a reserve
/// of <see cref="Reserve"/> slots beyond max_entries absorbs the churn meanwhile. Control-plane reads do not depend on
/// the grace period: they check the slot's sequence number and retry.</para>
/// </remarks>
internal sealed unsafe class ValueSlots : IDisposable
{
    private SeqLock sequence; // not readonly: Free clears it in place
    private readonly byte* keys;
    private readonly uint* nextFree;
    private readonly long* freedAt;
    private readonly int dataSize;
    private uint highWater;
    private FreeQueue freed = new();
    private bool disposed;

    public ValueSlots(int valueSize, int dataSize, long maxEntries)
    {
        this.dataSize = dataSize;
        Stride = BpfMap.RoundUp8(valueSize);
        // Enough spare slots for heavy churn during one grace period, within 64 MiB of values. Replacing a value
        // in a full map needs a new slot before the old one is freed, so there is always at least one.
        Reserve = (int)Math.Min(Math.Clamp(maxEntries / 8, 4096, 1 << 20), Math.Max(64, (64L << 20) / Stride));
        Total = maxEntries + Reserve;
        try
        {
            Slab = (byte*)NativeMemory.AllocZeroed((nuint)Total, (nuint)Stride);
            Links = (ulong*)NativeMemory.AllocZeroed((nuint)Total, sizeof(ulong));
            sequence = SeqLock.Allocate(Total);
            keys = (byte*)NativeMemory.AllocZeroed((nuint)Total, (nuint)dataSize);
            nextFree = (uint*)NativeMemory.AllocZeroed((nuint)Total, sizeof(uint));
            freedAt = (long*)NativeMemory.AllocZeroed((nuint)Total, sizeof(long));
        }
        catch (OutOfMemoryException)
        {
            Dispose();
            throw;
        }
        AllocatedBytes = Total * (Stride + sizeof(ulong) + sizeof(uint) + dataSize + sizeof(uint) + sizeof(long));
    }

    public long Total { get; }
    public int Stride { get; }
    public int Reserve { get; }

    /// <summary>Stopwatch ticks a freed item waits before reuse.</summary>
    public long GracePeriod { get; set; } = DeferredFree.DefaultGracePeriod;

    /// <summary>After a failed <see cref="TryAllocate"/>: when the oldest freed slot may be reused, or 0 if none is queued.</summary>
    public long BlockedUntil { get; private set; }
    public byte* Slab { get; }
    public long SlabBytes => Total * Stride;

    /// <summary>
    /// Per slot, read by lock-free lookups: <c>(prefixlen &lt;&lt; 32) | parent ref</c>, the parent being the next
    /// shorter prefix stored in the same trie node that covers this one (0 if none).
    /// </summary>
    public ulong* Links { get; }

    public long AllocatedBytes { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Value(uint slot) => Slab + (nuint)slot * (nuint)Stride;

    public byte* Key(uint slot) => keys + (nuint)slot * (nuint)dataSize;

    public static uint LengthOf(ulong link) => (uint)(link >> 32);

    public static uint ParentOf(ulong link) => (uint)link;

    public uint LengthOfRef(uint reference) => LengthOf(Links[reference - 1]);

    public uint ParentOfRef(uint reference) => ParentOf(Links[reference - 1]);

    public void SetParent(uint reference, uint parent) =>
        Volatile.Write(ref Links[reference - 1], (Links[reference - 1] & 0xffff_ffff_0000_0000) | parent);

    /// <summary>Starts a control-plane copy of a slot's value; see <see cref="SeqLock.ReadBegin"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadBegin(uint slot, ref int attempts) => sequence.ReadBegin(slot, ref attempts);

    /// <summary>True when the slot was refilled during the copy begun by <see cref="ReadBegin"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ReadRetry(uint slot, ulong token) => sequence.ReadRetry(slot, token);

    public bool TryAllocate(out uint slot)
    {
        BlockedUntil = 0;
        if (freed.TryPop(new FreeLinks(this), GracePeriod, out slot, out var reusableAt))
            return true;
        if (highWater < Total)
        {
            slot = highWater++;
            return true;
        }
        BlockedUntil = reusableAt;
        return false;
    }

    /// <summary>Fills a slot that no trie entry refers to yet: value, key as written, prefix length and parent.</summary>
    public void Fill(uint slot, byte* value, int valueSize, byte* keyData, uint prefixLength, uint parent)
    {
        // Seqlock write side: odd while the value changes, so a control-plane copy of a slot that was reused under it
        // notices and retries.
        var token = sequence.BeginWrite(slot);
        Buffer.MemoryCopy(value, Value(slot), Stride, valueSize);
        if (valueSize < Stride)
            NativeMemory.Clear(Value(slot) + valueSize, (nuint)(Stride - valueSize));
        sequence.EndWrite(slot, token);
        Buffer.MemoryCopy(keyData, Key(slot), dataSize, dataSize);
        Volatile.Write(ref Links[slot], ((ulong)prefixLength << 32) | parent);
    }

    /// <summary>Queues an unlinked slot for reuse; its value and link stay intact for readers still holding it.</summary>
    public void Free(uint slot) => freed.Push(new FreeLinks(this), slot);

    private readonly struct FreeLinks(ValueSlots slots) : IFreeLinks
    {
        public ref uint NextFree(uint index) => ref slots.nextFree[index];

        public ref long FreedAt(uint index) => ref slots.freedAt[index];
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        NativeMemory.Free(Slab);
        NativeMemory.Free(Links);
        sequence.Free();
        NativeMemory.Free(keys);
        NativeMemory.Free(nextFree);
        NativeMemory.Free(freedAt);
    }
}
