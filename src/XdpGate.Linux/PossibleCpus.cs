namespace XdpGate.Linux;

/// <summary>
/// The kernel's possible CPUs (/sys/devices/system/cpu/possible): how many slots a per-CPU map value has when
/// read or written through bpf(), whatever CPUs are online.
/// </summary>
public static class PossibleCpus
{
    public const string SysfsPath = "/sys/devices/system/cpu/possible";

    private static readonly Lazy<int> count = new(() => Parse(File.ReadAllText(SysfsPath)));

    /// <summary>num_possible_cpus(): the number of CPUs in <see cref="SysfsPath"/>.</summary>
    public static int Count => count.Value;

    /// <summary>Counts the CPUs of a kernel CPU list such as "0-3,6,8-9" (cpulist format).</summary>
    public static int Parse(string cpuList)
    {
        ArgumentNullException.ThrowIfNull(cpuList);
        var total = 0;
        foreach (var part in cpuList.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0)
            {
                _ = ParseCpu(part, cpuList);
                total++;
                continue;
            }
            var first = ParseCpu(part[..dash], cpuList);
            var last = ParseCpu(part[(dash + 1)..], cpuList);
            if (last < first)
                throw new FormatException($"CPU list '{cpuList}': range '{part}' runs backwards");
            total += last - first + 1;
        }
        if (total == 0)
            throw new FormatException($"CPU list '{cpuList}' names no CPU");
        return total;
    }

    private static int ParseCpu(string text, string cpuList) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var cpu)
            ? cpu
            : throw new FormatException($"CPU list '{cpuList}': '{text}' is not a CPU number");
}
