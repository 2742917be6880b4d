using Tmds.Linux;
using XdpGate.Uapi;

namespace XdpGate.Linux.Threading;

/// <summary>Pins the calling thread to one CPU (sched_setaffinity), so a worker's caches and per-CPU slot stay on its core.</summary>
public static unsafe class CpuAffinity
{
    /// <summary>The CPU the calling thread runs on now (sched_getcpu), or -1 when unknown.</summary>
    public static int CurrentCpu => LibC.sched_getcpu();

    /// <summary>Restricts the calling thread to <paramref name="cpu"/>; throws naming the CPU and errno when the kernel refuses.</summary>
    public static void PinCurrentThread(int cpu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        if (cpu >= 1024)
            throw new ArgumentOutOfRangeException(nameof(cpu), cpu, "CPU numbers above 1023 do not fit a cpu_set_t");
        cpu_set_t set;
        LibC.CPU_ZERO(&set);
        LibC.CPU_SET(cpu, &set);
        // pid 0 is the calling thread, not the whole process.
        if (LibC.sched_setaffinity(0, (size_t)sizeof(cpu_set_t), &set) != 0)
            throw new InvalidOperationException($"sched_setaffinity(CPU {cpu}): {ErrnoText.Describe(LibC.errno)}");
    }
}
