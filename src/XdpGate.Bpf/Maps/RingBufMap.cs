using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_RINGBUF: a multi-producer, single-consumer byte ring. Programs reserve a record, fill it in place
/// and submit or discard it (or copy one in with ringbuf_output); the control plane consumes records in order.
/// </summary>
/// <remarks>
/// Producers reserve with a compare-and-swap on the producer position (no lock, unlike the kernel's spinlock), and
/// a record becomes visible when its header gets the READY bit. A record never wraps: when it would cross the end
/// of the ring, the producer reserves the rest of the ring as a discarded padding record first. The consumer zeroes
/// what it consumed before releasing it, so stale bytes can never look like a ready header.
/// </remarks>
public sealed unsafe class RingBufMap : BpfMap
{
    public const int HeaderSize = 8;
    private const uint BusyBit = 1u << 31;
    private const uint DiscardBit = 1u << 30;
    private const uint ReadyBit = 1u << 29;
    private const uint LengthMask = ReadyBit - 1;
    private const int PageSize = 4096;

    public const ulong BPF_RB_NO_WAKEUP = 1;
    public const ulong BPF_RB_FORCE_WAKEUP = 2;

    private readonly long capacity;
    private readonly long mask;
    private byte* data;
    private long producerPosition;
    private long consumerPosition;

    public RingBufMap(MapDefinition definition, int possibleCpus = 1) : base(definition, possibleCpus)
    {
        MapChecks.Require(definition, definition.Type == bpf_map_type.BPF_MAP_TYPE_RINGBUF, "is not a ring buffer");
        MapChecks.Require(definition, definition.KeySize == 0 && definition.ValueSize == 0, "key_size and value_size must be 0");
        MapChecks.Require(definition, BitOperations.IsPow2(definition.MaxEntries) && definition.MaxEntries % PageSize == 0,
            $"max_entries (the ring size in bytes) must be a power of 2 and a multiple of {PageSize}, is {definition.MaxEntries}");
        MapChecks.RequireCommon(definition, MapFlags.BPF_F_NUMA_NODE, valueRequired: false);
        capacity = definition.MaxEntries;
        mask = capacity - 1;
        data = (byte*)NativeMemory.AlignedAlloc((nuint)capacity, PageSize);
        NativeMemory.Clear(data, (nuint)capacity);
        ValueRegion = new MemoryRegion((nint)data, (nint)capacity, Writable: true);
    }

    public override MemoryRegion ValueRegion { get; }

    /// <summary>Bytes reserved or ready and not yet consumed.</summary>
    public long Pending => Volatile.Read(ref producerPosition) - Volatile.Read(ref consumerPosition);

    /// <summary>bpf_ringbuf_reserve: a record of <paramref name="size"/> bytes to fill, or null when the ring is full.</summary>
    public byte* Reserve(ulong size)
    {
        if (size > (ulong)(capacity - HeaderSize) || size > LengthMask)
            return null;
        var total = RoundUp8((int)size + HeaderSize);
        while (true)
        {
            var producer = Volatile.Read(ref producerPosition);
            var consumer = Volatile.Read(ref consumerPosition);
            var offset = producer & mask;
            var padding = offset + total > capacity ? capacity - offset : 0;
            if (producer + padding + total - consumer > capacity)
                return null;
            if (Interlocked.CompareExchange(ref producerPosition, producer + padding + total, producer) != producer)
                continue;
            if (padding > 0)
            {
                Volatile.Write(ref *(uint*)(data + offset), (uint)(padding - HeaderSize) | DiscardBit | ReadyBit);
                offset = 0;
            }
            var header = data + offset;
            *(uint*)(header + 4) = (uint)offset;
            Volatile.Write(ref *(uint*)header, (uint)size | BusyBit);
            return header + HeaderSize;
        }
    }

    /// <summary>bpf_ringbuf_submit / bpf_ringbuf_discard: false when <paramref name="record"/> is not a reserved record.</summary>
    public bool Commit(byte* record, bool discard)
    {
        var header = record - HeaderSize;
        if ((ulong)header < (ulong)data || (ulong)record > (ulong)(data + capacity) || ((ulong)header & 7) != 0)
            return false;
        var word = Volatile.Read(ref *(uint*)header);
        if ((word & BusyBit) == 0)
            return false;
        Volatile.Write(ref *(uint*)header, (word & LengthMask) | ReadyBit | (discard ? DiscardBit : 0));
        return true;
    }

    /// <summary>bpf_ringbuf_output: 0, or -EAGAIN when the ring is full.</summary>
    public int Output(ReadOnlySpan<byte> record)
    {
        var target = Reserve((ulong)record.Length);
        if (target is null)
            return -Errno.EAGAIN;
        record.CopyTo(new Span<byte>(target, record.Length));
        Commit(target, discard: false);
        return 0;
    }

    public delegate void RecordHandler(ReadOnlySpan<byte> record);

    /// <summary>
    /// Hands every ready record to <paramref name="handler"/> in ring order, stopping at the first one still being
    /// written; returns how many it handed over. One consumer at a time.
    /// </summary>
    public int Consume(RecordHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var count = 0;
        var consumer = Volatile.Read(ref consumerPosition);
        while (consumer != Volatile.Read(ref producerPosition))
        {
            var header = data + (consumer & mask);
            var word = Volatile.Read(ref *(uint*)header);
            if ((word & ReadyBit) == 0)
                break;
            var length = (int)(word & LengthMask);
            if ((word & DiscardBit) == 0)
            {
                handler(new ReadOnlySpan<byte>(header + HeaderSize, length));
                count++;
            }
            var total = RoundUp8(length + HeaderSize);
            new Span<byte>(header, (int)total).Clear();
            consumer += total;
            Volatile.Write(ref consumerPosition, consumer);
        }
        return count;
    }

    // A ring buffer has no keys: programs use the ringbuf helpers, the control plane uses Consume.
    public override byte* LookupElem(byte* key, int cpu) => null;
    public override int UpdateElem(byte* key, byte* value, ulong flags, int cpu) => -Errno.EOPNOTSUPP;
    public override int DeleteElem(byte* key) => -Errno.EOPNOTSUPP;
    public override int Lookup(ReadOnlySpan<byte> key, Span<byte> value) => -Errno.EOPNOTSUPP;
    protected override int UpdateValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -Errno.EOPNOTSUPP;
    protected override int DeleteValue(ReadOnlySpan<byte> key) => -Errno.EOPNOTSUPP;
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => -Errno.EOPNOTSUPP;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long RoundUp8(long n) => (n + 7) & ~7L;

    protected override void Dispose(bool disposing)
    {
        if (data is not null)
        {
            NativeMemory.AlignedFree(data);
            data = null;
        }
        base.Dispose(disposing);
    }
}
