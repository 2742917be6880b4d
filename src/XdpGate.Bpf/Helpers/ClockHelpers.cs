using System.Runtime.InteropServices;
using XdpGate.Bpf.Execution;

namespace XdpGate.Bpf.Helpers;

/// <summary>Time, randomness and CPU identity: ktime_get_ns, ktime_get_boot_ns, jiffies64, get_prandom_u32, get_smp_processor_id.</summary>
internal static unsafe partial class ClockHelpers
{
    /// <summary>
    /// jiffies advance HZ times a second; HZ is a kernel build option not visible from user space, so we use 1000
    /// (the common server setting). Like the kernel, the count starts 5 minutes before wrapping a u32, so programs
    /// that mishandle wrap-around show it early.
    /// </summary>
    public const ulong Hz = 1000;
    private const ulong InitialJiffies = unchecked((uint)-(300 * (int)Hz));

#pragma warning disable CA1707 // kernel names kept exactly
    private const int CLOCK_MONOTONIC = 1;
    private const int CLOCK_BOOTTIME = 7;
#pragma warning restore CA1707

    public static ulong KtimeGetNs(BpfVm vm, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => Nanoseconds(CLOCK_MONOTONIC);

    /// <summary>CLOCK_BOOTTIME: monotonic, and counting time suspended.</summary>
    public static ulong KtimeGetBootNs(BpfVm vm, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => Nanoseconds(CLOCK_BOOTTIME);

    public static ulong Jiffies64(BpfVm vm, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) =>
        InitialJiffies + Nanoseconds(CLOCK_BOOTTIME) / (1_000_000_000UL / Hz);

    public static ulong GetPrandomU32(BpfVm vm, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => vm.NextRandom();

    public static ulong GetSmpProcessorId(BpfVm vm, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => (uint)vm.ProcessorId;

    /// <summary>
    /// The clocks the kernel's helpers read, from clock_gettime: .NET has no CLOCK_BOOTTIME, and Stopwatch does not
    /// promise CLOCK_MONOTONIC. A vDSO read, which neither allocates nor enters the kernel.
    /// </summary>
    private static ulong Nanoseconds(int clock)
    {
        Timespec now;
        if (clock_gettime(clock, &now) != 0)
            return 0;
        return (ulong)(long)now.Seconds * 1_000_000_000UL + (ulong)(long)now.Nanoseconds;
    }

    /// <summary>struct timespec: time_t and long, both a machine word on Linux.</summary>
    private struct Timespec
    {
        public nint Seconds;
        public nint Nanoseconds;
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int clock_gettime(int clockId, Timespec* time);
}
