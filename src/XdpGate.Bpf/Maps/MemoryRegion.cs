namespace XdpGate.Bpf.Maps;

/// <summary>A range of native memory a program may access, and whether it may write it.</summary>
public readonly record struct MemoryRegion(nint Start, nint Length, bool Writable)
{
    public static readonly MemoryRegion Empty = new(0, 0, false);

    public bool Contains(ulong address, int size) =>
        address >= (ulong)Start && address + (ulong)size <= (ulong)Start + (ulong)Length && address + (ulong)size >= address;
}
