namespace XdpGate.Linux.AfXdp;

/// <summary>
/// One single-producer single-consumer ring shared with the kernel (fill, completion, RX or TX). The indexes are
/// free-running u32s; an entry lives at index &amp; mask. The side that owns an index publishes it with a release
/// store (Volatile.Write) after writing the entries, and the other side reads it with an acquire load (Volatile.Read)
/// before reading them: the kernel's smp_store_release / smp_load_acquire pairing. Local copies of both indexes
/// spare the shared cache line until the cached view runs out.
/// </summary>
public sealed unsafe class XskRing
{
    private readonly uint* producer;
    private readonly uint* consumer;
    private readonly uint* flags;
    private readonly uint mask;
    private uint localProducer;
    private uint localConsumer;

    internal XskRing(byte* mapping, xdp_ring_offset offsets, uint size, bool userProduces)
    {
        producer = (uint*)(mapping + offsets.producer);
        consumer = (uint*)(mapping + offsets.consumer);
        flags = (uint*)(mapping + offsets.flags);
        Entries = mapping + offsets.desc;
        Size = size;
        mask = size - 1;
        localProducer = Volatile.Read(ref *producer);
        localConsumer = Volatile.Read(ref *consumer);
        UserProduces = userProduces;
    }

    public uint Size { get; }

    /// <summary>True for fill and TX (user space produces), false for RX and completion.</summary>
    public bool UserProduces { get; }

    /// <summary>The entry array: u64 UMEM addresses (fill, completion) or <see cref="xdp_desc"/> (RX, TX).</summary>
    public byte* Entries { get; }

    /// <summary>XDP_RING_NEED_WAKEUP: the kernel wants a syscall before it looks at this ring again.</summary>
    public bool NeedsWakeup => (Volatile.Read(ref *flags) & if_xdp.XDP_RING_NEED_WAKEUP) != 0;

    /// <summary>Producer: entries free to write now (re-reads the kernel's consumer only when the cached view is short).</summary>
    public uint Free(uint wanted)
    {
        var free = Size - (localProducer - localConsumer);
        if (free >= wanted)
            return free;
        localConsumer = Volatile.Read(ref *consumer);
        return Size - (localProducer - localConsumer);
    }

    /// <summary>Producer: the slot of the next entry to write; call only after <see cref="Free"/> said there is room.</summary>
    public uint Produce() => localProducer++ & mask;

    /// <summary>Producer: entries submitted that the kernel has not consumed yet.</summary>
    public uint Unconsumed => localProducer - Volatile.Read(ref *consumer);

    /// <summary>Producer: publishes every entry produced so far.</summary>
    public void Submit() => Volatile.Write(ref *producer, localProducer);

    /// <summary>Consumer: entries ready to read (re-reads the kernel's producer only when the cached view is empty).</summary>
    public uint Available()
    {
        var available = localProducer - localConsumer;
        if (available != 0)
            return available;
        localProducer = Volatile.Read(ref *producer);
        return localProducer - localConsumer;
    }

    /// <summary>Consumer: the slot of the next entry to read; call only after <see cref="Available"/> said there is one.</summary>
    public uint Consume() => localConsumer++ & mask;

    /// <summary>Consumer: gives every consumed slot back to the kernel.</summary>
    public void Release() => Volatile.Write(ref *consumer, localConsumer);

    public ulong* Addresses => (ulong*)Entries;

    public xdp_desc* Descriptors => (xdp_desc*)Entries;
}
