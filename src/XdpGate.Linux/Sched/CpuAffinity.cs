using LibC = Tmds.Linux.LibC;

namespace XdpGate.Linux.Sched;

/// <summary>sched_setaffinity for the calling thread, so a worker stays on the core whose queue it serves.</summary>
public static unsafe class CpuAffinity
{
    /// <summary>Pins the calling thread to <paramref name="cpu"/> alone.</summary>
    public static void PinCurrentThread(int cpu)
    {
        if (cpu < 0 || cpu >= LibC.CPU_SETSIZE)
            throw new ArgumentOutOfRangeException(nameof(cpu), cpu, $"CPU must be 0 to {LibC.CPU_SETSIZE - 1}");
        Tmds.Linux.cpu_set_t set;
        LibC.CPU_ZERO(&set);
        LibC.CPU_SET(cpu, &set);
        // pid 0: the calling thread (a thread id, not the process, for sched_setaffinity).
        SyscallException.Check(LibC.sched_setaffinity(0, (Tmds.Linux.size_t)(ulong)sizeof(Tmds.Linux.cpu_set_t), &set), "sched_setaffinity", $"CPU {cpu}");
    }

    /// <summary>The CPUs the calling thread may run on.</summary>
    public static IReadOnlyList<int> OfCurrentThread()
    {
        Tmds.Linux.cpu_set_t set;
        SyscallException.Check(LibC.sched_getaffinity(0, (Tmds.Linux.size_t)(ulong)sizeof(Tmds.Linux.cpu_set_t), &set), "sched_getaffinity");
        var cpus = new List<int>();
        for (var cpu = 0; cpu < LibC.CPU_SETSIZE; cpu++)
        {
            if (LibC.CPU_ISSET(cpu, &set))
                cpus.Add(cpu);
        }
        return cpus;
    }
}
