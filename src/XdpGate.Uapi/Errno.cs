namespace XdpGate.Uapi;

/// <summary>
/// The errno values code decides on: syscall failures in the Linux layer, and the engine's map and helper results,
/// which the kernel returns negated (asm-generic numbers, shared by x86_64 and arm64; <see cref="ErrnoText"/> names them).
/// </summary>
#pragma warning disable CA1707 // kernel names kept exactly
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int E2BIG = 7;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ERANGE = 34;
    public const int EOPNOTSUPP = 95;
    public const int ENOBUFS = 105;
    /// <summary>Kernel-internal, but bpf() and helpers still return it.</summary>
    public const int ENOTSUPP = 524;
}
#pragma warning restore CA1707
