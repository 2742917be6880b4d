using System.Runtime.CompilerServices;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// A spin lock over an int in native memory, the analogue of the kernel's raw bucket spin locks, whose word also
/// counts: it is odd while held and advances by two at every exit (and at every <see cref="Advance"/>), so a
/// lock-free reader that reads the same word before and after a walk knows whether a writer's section changed the
/// chain meanwhile, as with a seqlock.
/// </summary>
/// <remarks>
/// Held only for a few link writes and one value copy, never across anything that could block. The hash map nests at
/// most a bucket gate around the free-queue gate, never the other way round and never two bucket gates, so there is
/// no lock order to get wrong.
/// </remarks>
internal static class SpinGate
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Enter(ref int gate)
    {
        var word = Volatile.Read(ref gate);
        if ((word & 1) != 0 || Interlocked.CompareExchange(ref gate, unchecked(word + 1), word) != word)
            EnterContended(ref gate);
    }

    /// <summary>Marks a point inside a held section that lock-free readers must notice (the word stays odd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Advance(ref int gate) => Volatile.Write(ref gate, unchecked(gate + 2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Exit(ref int gate) => Volatile.Write(ref gate, unchecked(gate + 1));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EnterContended(ref int gate)
    {
        // Spin on plain reads so waiters do not bounce the cache line; SpinWait yields the core after a while,
        // which matters when the holder was preempted (user space has no preempt_disable).
        var spinner = default(SpinWait);
        while (true)
        {
            var word = Volatile.Read(ref gate);
            if ((word & 1) == 0 && Interlocked.CompareExchange(ref gate, unchecked(word + 1), word) == word)
                return;
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }
}
