using System.Runtime.InteropServices;
using Tmds.Linux;

namespace XdpGate.Linux;

/// <summary>The kernel clocks BPF time helpers read: CLOCK_MONOTONIC (ktime_get_ns) and CLOCK_BOOTTIME (ktime_get_boot_ns).</summary>
public static unsafe partial class Clocks
{
#pragma warning disable CA1707 // kernel names kept exactly
    public const int CLOCK_MONOTONIC = 1;
    public const int CLOCK_BOOTTIME = 7;
#pragma warning restore CA1707

    /// <summary>Nanoseconds of CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns.</summary>
    public static ulong MonotonicNanoseconds() => Read(CLOCK_MONOTONIC);

    /// <summary>Nanoseconds of CLOCK_BOOTTIME (monotonic, counting suspend), the clock of bpf_ktime_get_boot_ns.</summary>
    public static ulong BootNanoseconds() => Read(CLOCK_BOOTTIME);

    private static ulong Read(int clock)
    {
        timespec now;
        // Tmds.LibC mirrors struct timespec but not clock_gettime; the vDSO-backed libc call is allocation-free.
        if (clock_gettime(clock, &now) != 0)
            return 0;
        return (ulong)(long)now.tv_sec * 1_000_000_000UL + (ulong)(long)now.tv_nsec;
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int clock_gettime(int clockId, timespec* time);
}
