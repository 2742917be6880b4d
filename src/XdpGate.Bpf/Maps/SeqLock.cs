using System.Runtime.CompilerServices;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// Per-element sequence counters, kept apart from the memory programs can write (so a stray program store cannot
/// wedge a reader). Writers make the counter odd while they copy; a reader copies and retries until it saw the same
/// even counter before and after, so a control-plane reader never returns a value half-written by an update.
/// </summary>
internal sealed class SeqLock
{
    private readonly long[] sequence;

    public SeqLock(int elements) => sequence = new long[elements];

    /// <summary>Waits for other writers of this element and marks it being written; returns the token for <see cref="EndWrite"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long BeginWrite(int element)
    {
        ref var s = ref sequence[element];
        while (true)
        {
            var current = Volatile.Read(ref s);
            if ((current & 1) == 0 && Interlocked.CompareExchange(ref s, current + 1, current) == current)
                return current + 1;
            Thread.SpinWait(1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EndWrite(int element, long token) => Volatile.Write(ref sequence[element], token + 1);

    /// <summary>
    /// Starts a copy: waits until no write is in progress and returns the token for <see cref="ReadRetry"/>. After
    /// <see cref="OptimisticAttempts"/> failed copies it takes the element like a writer, so a reader of an element
    /// that programs update on every packet still finishes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadBegin(int element, ref int attempts)
    {
        if (++attempts > OptimisticAttempts)
            return BeginWrite(element) | ExclusiveRead;
        ref var s = ref sequence[element];
        var spins = 0;
        while (true)
        {
            var current = Volatile.Read(ref s);
            if ((current & 1) == 0)
                return current;
            Thread.SpinWait(++spins < 10 ? 1 : 20);
        }
    }

    /// <summary>True when a write overlapped the copy made since <see cref="ReadBegin"/>, so it must be made again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ReadRetry(int element, long token)
    {
        if ((token & ExclusiveRead) != 0)
        {
            // Nothing was written: restore the even value the element had, so optimistic readers stay valid.
            Volatile.Write(ref sequence[element], (token & ~ExclusiveRead) - 1);
            return false;
        }
        Interlocked.MemoryBarrier();
        return Volatile.Read(ref sequence[element]) != token;
    }

    private const int OptimisticAttempts = 16;
    private const long ExclusiveRead = 1L << 62;
}
