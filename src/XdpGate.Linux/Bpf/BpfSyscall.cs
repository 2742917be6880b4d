using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using XdpGate.Uapi;

namespace XdpGate.Linux.Bpf;

/// <summary>
/// Typed wrappers over the bpf() system call: each fills its command's <c>union bpf_attr</c> variant, calls the
/// kernel, and throws <see cref="BpfSyscallException"/> naming the command and errno when the kernel refuses.
/// Instructions are opaque bytes here: nothing in this layer knows what they mean.
/// </summary>
public static unsafe partial class BpfSyscall
{
#pragma warning disable CA1707 // kernel names kept exactly
    /// <summary>__NR_bpf of this architecture.</summary>
    public static int SYS_bpf { get; } = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 321,
        Architecture.Arm64 => 280,
        _ => -1,
    };

    /// <summary>sizeof(struct bpf_insn).</summary>
    public const int BPF_INSN_SIZE = 8;
#pragma warning restore CA1707

    /// <summary>bpf(cmd, attr, size): the non-negative result, or the negative errno.</summary>
    public static int Invoke(bpf_cmd cmd, void* attr, int size)
    {
        if (SYS_bpf < 0)
            throw new PlatformNotSupportedException($"bpf(): no syscall number known for {RuntimeInformation.ProcessArchitecture}");
        var result = (long)(ssize_t)LibC.syscall(SYS_bpf, (int)cmd, attr, (uint)size);
        return result < 0 ? -LibC.errno : (int)result;
    }

    /// <summary>
    /// Why this process cannot use bpf() (no syscall number, not root, or the kernel refusing a one-element array
    /// map), or null when it can.
    /// </summary>
    public static string? WhyUnavailable()
    {
        if (SYS_bpf < 0)
            return $"no bpf() syscall number known for {RuntimeInformation.ProcessArchitecture}";
        if (!OperatingSystem.IsLinux())
            return "bpf() is a Linux system call";
        if (!Environment.IsPrivilegedProcess)
            return "not running as root: loading programs and creating maps needs CAP_BPF (or CAP_SYS_ADMIN)";
        try
        {
            using var probe = MapCreate(2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 1, name: "probe");
            return null;
        }
        catch (BpfSyscallException e)
        {
            return $"the kernel refuses bpf(): {e.Message}";
        }
    }

    private static void CopyName(string name, byte* destination, string parameter)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        if (bytes.Length >= bpf_defines.BPF_OBJ_NAME_LEN)
            throw new ArgumentException($"name '{name}' is {bytes.Length} bytes; the kernel takes at most {bpf_defines.BPF_OBJ_NAME_LEN - 1}", parameter);
        bytes.CopyTo(new Span<byte>(destination, bpf_defines.BPF_OBJ_NAME_LEN));
    }
}
