using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// Per-element sequence counters (a seqlock per element), the one implementation behind every map whose control plane
/// copies values that something else may be writing. Writers make an element's counter odd while they write; a reader
/// copies and retries until it saw the same even counter before and after, so a control-plane reader never returns a
/// value half-written by an update.
/// </summary>
/// <remarks>
/// <para>The counters live in their own native block, apart from the memory programs can write, so a stray program
/// store cannot wedge a reader. They are 32-bit: wrapping keeps parity, and a reader would have to sleep through
/// 2^31 writes of one element to be fooled.</para>
/// <para>A struct over that block rather than a class, so a map reaches its counters with no extra indirection. Owners
/// keep it in a field that is not <c>readonly</c>: <see cref="Free"/> clears the pointer in place, which a readonly
/// field would silently apply to a copy.</para>
/// <para>Only the control plane's reads and writers use the counters; program lookups never touch them, so programs
/// pay nothing for them.</para>
/// </remarks>
internal unsafe struct SeqLock
{
    /// <summary>Failed optimistic copies after which a reader takes the element like a writer.</summary>
    private const int OptimisticAttempts = 16;

    /// <summary>Set in a read token above the 32 counter bits when the reader holds the element exclusively.</summary>
    private const ulong ExclusiveRead = 1UL << 32;

    private uint* counters;

    /// <summary>Counters for <paramref name="elements"/> elements, all even (no write in progress).</summary>
    /// <exception cref="OutOfMemoryException">The block cannot be allocated.</exception>
    public static SeqLock Allocate(long elements)
    {
        var bytes = checked((nuint)elements * sizeof(uint));
        var block = (uint*)NativeMemory.AlignedAlloc(bytes == 0 ? 1 : bytes, 64);
        NativeMemory.Clear(block, bytes);
        return new SeqLock { counters = block };
    }

    /// <summary>Frees the counters; safe to call again, and on a default value.</summary>
    public void Free()
    {
        NativeMemory.AlignedFree(counters);
        counters = null;
    }

    /// <summary>
    /// Waits until no one else writes (or exclusively reads) the element, then marks it being written: a compare-and-swap
    /// from even to odd, so it is correct whether or not the caller also holds a lock that orders writers (the hash
    /// map's bucket lock does not cover an element that a reader holds, or one being recycled into another bucket). The
    /// full fence of the swap keeps the writes that follow after it. Returns the token for <see cref="EndWrite"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly uint BeginWrite(uint element)
    {
        ref var counter = ref counters[element];
        var current = Volatile.Read(ref counter);
        if ((current & 1) == 0 && Interlocked.CompareExchange(ref counter, current + 1, current) == current)
            return current + 1;
        return BeginWriteContended(ref counter);
    }

    /// <summary>Ends the write begun by <see cref="BeginWrite"/>: the release store makes the written data visible first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void EndWrite(uint element, uint token) => Volatile.Write(ref counters[element], unchecked(token + 1));

    /// <summary>
    /// Starts a copy: waits until no write is in progress and returns the token for <see cref="ReadRetry"/>, which
    /// must follow every ReadBegin. After <see cref="OptimisticAttempts"/> failed copies (counted in
    /// <paramref name="attempts"/>, which starts at 0) it takes the element like a writer, so a reader of an element
    /// that programs update on every packet still finishes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ulong ReadBegin(uint element, ref int attempts)
    {
        if (++attempts > OptimisticAttempts)
            return BeginWrite(element) | ExclusiveRead;
        ref var counter = ref counters[element];
        var current = Volatile.Read(ref counter);
        return (current & 1) == 0 ? current : WaitForEven(ref counter);
    }

    /// <summary>True when a write overlapped the copy made since <see cref="ReadBegin"/>, so it must be made again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool ReadRetry(uint element, ulong token)
    {
        ref var counter = ref counters[element];
        if ((token & ExclusiveRead) != 0)
        {
            // Nothing was written: restore the even value the element had, so optimistic readers stay valid.
            Volatile.Write(ref counter, unchecked((uint)token - 1));
            return false;
        }
        // A full fence: the copy's loads must not drift past the second reading.
        Interlocked.MemoryBarrier();
        return Volatile.Read(ref counter) != (uint)token;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static uint BeginWriteContended(ref uint counter)
    {
        // Spin on plain reads so waiters do not bounce the cache line; SpinWait yields the core after a while, which
        // matters when the holder was preempted (user space has no preempt_disable). No Sleep(1): holders are brief.
        var spinner = default(SpinWait);
        while (true)
        {
            var current = Volatile.Read(ref counter);
            if ((current & 1) == 0 && Interlocked.CompareExchange(ref counter, current + 1, current) == current)
                return current + 1;
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static uint WaitForEven(ref uint counter)
    {
        var spinner = default(SpinWait);
        while (true)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
            var current = Volatile.Read(ref counter);
            if ((current & 1) == 0)
                return current;
        }
    }
}
