using System.Runtime.InteropServices;
using XdpGate.Uapi;

namespace XdpGate.Linux;

/// <summary>
/// The calling thread's capability sets (capget/capset, linux/capability.h). Linux keeps capabilities per thread,
/// and an effective capability may be dropped and raised again while it stays permitted, so one thread can act
/// as a less privileged loader for a moment: the kernel verifier, for one, applies its unprivileged rules to a
/// loader with CAP_BPF but without CAP_PERFMON and CAP_SYS_ADMIN.
/// </summary>
public static unsafe partial class Capabilities
{
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly
    public const int CAP_NET_ADMIN = 12;
    public const int CAP_SYS_ADMIN = 21;
    public const int CAP_PERFMON = 38;
    public const int CAP_BPF = 39;

    private const uint _LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    [StructLayout(LayoutKind.Sequential)]
    private struct __user_cap_header_struct
    {
        public uint version;
        public int pid;
    }

    /// <summary>One 32-bit word of each set; version 3 takes two of them (capabilities 0-31, 32-63).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct __user_cap_data_struct
    {
        public uint effective;
        public uint permitted;
        public uint inheritable;
    }
#pragma warning restore CA1707, IDE1006

    /// <summary>The bit of capability <paramref name="cap"/> in a 64-bit set.</summary>
    public static ulong Bit(int cap) => (uint)cap < 64 ? 1UL << cap : throw new ArgumentOutOfRangeException(nameof(cap), cap, "capabilities are numbered 0-63");

    /// <summary>The calling thread's effective set, one bit per capability.</summary>
    public static ulong Effective => Get().Effective;

    /// <summary>The calling thread's permitted set: what it may raise into its effective set.</summary>
    public static ulong Permitted => Get().Permitted;

    /// <summary>
    /// Runs <paramref name="action"/> on the calling thread with the effective set narrowed to
    /// <paramref name="effective"/> (which must be permitted), then restores the previous effective set.
    /// </summary>
    public static T WithEffective<T>(ulong effective, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var (previous, permitted, inheritable) = Get();
        if ((effective & ~permitted) != 0)
            throw new ArgumentException($"capabilities 0x{effective & ~permitted:x} are not in the thread's permitted set 0x{permitted:x}", nameof(effective));
        Set(effective, permitted, inheritable);
        try
        {
            return action();
        }
        finally
        {
            Set(previous, permitted, inheritable);
        }
    }

    private static (ulong Effective, ulong Permitted, ulong Inheritable) Get()
    {
        var header = new __user_cap_header_struct { version = _LINUX_CAPABILITY_VERSION_3 };
        var data = stackalloc __user_cap_data_struct[2];
        if (capget(&header, data) != 0)
            throw new InvalidOperationException($"capget: {ErrnoText.Describe(Marshal.GetLastPInvokeError())}");
        return (Join(data[0].effective, data[1].effective), Join(data[0].permitted, data[1].permitted), Join(data[0].inheritable, data[1].inheritable));
    }

    private static void Set(ulong effective, ulong permitted, ulong inheritable)
    {
        var header = new __user_cap_header_struct { version = _LINUX_CAPABILITY_VERSION_3 };
        var data = stackalloc __user_cap_data_struct[2];
        data[0] = new __user_cap_data_struct { effective = (uint)effective, permitted = (uint)permitted, inheritable = (uint)inheritable };
        data[1] = new __user_cap_data_struct { effective = (uint)(effective >> 32), permitted = (uint)(permitted >> 32), inheritable = (uint)(inheritable >> 32) };
        if (capset(&header, data) != 0)
            throw new InvalidOperationException($"capset effective 0x{effective:x}: {ErrnoText.Describe(Marshal.GetLastPInvokeError())}");
    }

    private static ulong Join(uint low, uint high) => low | ((ulong)high << 32);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int capget(__user_cap_header_struct* header, __user_cap_data_struct* data);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int capset(__user_cap_header_struct* header, __user_cap_data_struct* data);
}
