using System.Diagnostics;

namespace XdpGate.Testing.HotPath;

/// <summary>Measures what hot paths allocate once they run the code they will keep running.</summary>
public static class Allocations
{
    /// <summary>
    /// Bytes the calling thread allocates in one call of <paramref name="work"/>, measured after a second of
    /// repeating it. Tiered compilation promotes hot methods to optimized code in the background after a delay, and
    /// installing that code can allocate on the calling thread; a short warm-up would count those one-time bytes
    /// against the code under test (seen on CI as a few KB in a million LPM lookups).
    /// </summary>
    public static long InSteadyState(Action work)
    {
        var warm = Stopwatch.StartNew();
        do
            work();
        while (warm.Elapsed < TimeSpan.FromSeconds(1));
        var before = GC.GetAllocatedBytesForCurrentThread();
        work();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
