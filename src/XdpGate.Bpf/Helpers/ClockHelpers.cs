using XdpGate.Bpf.Execution;
using XdpGate.Linux;

namespace XdpGate.Bpf.Helpers;

/// <summary>Time, randomness and CPU identity: ktime_get_ns, ktime_get_boot_ns, jiffies64, get_prandom_u32, get_smp_processor_id.</summary>
internal static class ClockHelpers
{
    /// <summary>
    /// jiffies advance HZ times a second; HZ is a kernel build option not visible from user space, so we use 1000
    /// (the common server setting). Like the kernel, the count starts 5 minutes before wrapping a u32, so programs
    /// that mishandle wrap-around show it early.
    /// </summary>
    public const ulong Hz = 1000;
    private const ulong InitialJiffies = unchecked((uint)-(300 * (int)Hz));

    public static ulong KtimeGetNs(BpfVm vm, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => Clocks.MonotonicNanoseconds();

    public static ulong KtimeGetBootNs(BpfVm vm, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => Clocks.BootNanoseconds();

    public static ulong Jiffies64(BpfVm vm, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) =>
        InitialJiffies + Clocks.BootNanoseconds() / (1_000_000_000UL / Hz);

    public static ulong GetPrandomU32(BpfVm vm, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => vm.NextRandom();

    public static ulong GetSmpProcessorId(BpfVm vm, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => (uint)vm.Cpu;
}
