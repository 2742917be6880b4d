using System.Numerics;
using System.Runtime.InteropServices;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// The free elements of a preallocated map, handed out first in, first out.
/// </summary>
/// <remarks>
/// FIFO rather than the kernel's per-CPU LIFO freelist on purpose: a program may still hold a pointer to the value of
/// an element that was just deleted or replaced (lookups take no lock and there is no RCU grace period to wait for).
/// Reusing the oldest free element puts every other free element between a delete and the reuse, which keeps such
/// a stale pointer showing the old value for as long as the map has room. Only writers come here, so a spin lock
/// is enough; lock-free lookups never touch the queue.
/// </remarks>
internal sealed unsafe class ElementQueue : IDisposable
{
    private readonly uint mask;
    private uint* ring;
    private long head;
    private long tail;
    private int gate;

    /// <summary>A queue holding every index 0..<paramref name="count"/>-1, in order.</summary>
    public ElementQueue(int count)
    {
        var size = BitOperations.RoundUpToPowerOf2((uint)count);
        mask = size - 1;
        ring = (uint*)NativeMemory.Alloc(size, sizeof(uint));
        for (var i = 0u; i < (uint)count; i++)
            ring[i] = i;
        tail = count;
    }

    public bool TryDequeue(out int index)
    {
        SpinGate.Enter(ref gate);
        if (head == tail)
        {
            SpinGate.Exit(ref gate);
            index = -1;
            return false;
        }
        index = (int)ring[head & mask];
        head++;
        SpinGate.Exit(ref gate);
        return true;
    }

    /// <summary>Returns an element; the caller guarantees it is not already queued, so the ring never overflows.</summary>
    public void Enqueue(int index)
    {
        SpinGate.Enter(ref gate);
        ring[tail & mask] = (uint)index;
        tail++;
        SpinGate.Exit(ref gate);
    }

    public void Dispose()
    {
        NativeMemory.Free(ring);
        ring = null;
    }
}
