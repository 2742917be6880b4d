using System.Runtime.InteropServices;

namespace XdpGate.Bpf.Maps.Lpm;

/// <summary>
/// What a lookup needs to know about one trie level, kept in native memory next to the other levels so that the
/// lock-free walk reads nothing managed. Written once when the map is created.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct LpmLevel
{
    /// <summary>The level's chunk table: chunk i holds nodes [i &lt;&lt; ChunkShift, (i + 1) &lt;&lt; ChunkShift).</summary>
    public nint* Chunks;
    public int ChunkShift;
    public uint ChunkMask;
    /// <summary>32-bit words per node: one header word (the inherited best match) then 2^Stride entries.</summary>
    public uint NodeWords;
    /// <summary>Which 64-bit key word holds this level's bits.</summary>
    public int Word;
    /// <summary>This level's index is <c>(word &gt;&gt; Shift) &amp; Mask</c>.</summary>
    public int Shift;
    public uint Mask;
    /// <summary>Key bits consumed by the levels above.</summary>
    public int Depth;
    public int Stride;

    public readonly int End => Depth + Stride;

    public readonly uint* Node(uint index) =>
        (uint*)Chunks[index >> ChunkShift] + (nuint)(index & ChunkMask) * NodeWords;
}
