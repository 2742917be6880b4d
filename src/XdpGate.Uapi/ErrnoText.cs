using System.Runtime.InteropServices;

namespace XdpGate.Uapi;

/// <summary>Errno values as people read them: the asm-generic name (shared by x86_64 and arm64) and libc's text.</summary>
public static class ErrnoText
{
    /// <summary>"EACCES (Permission denied)"; the number stands in for names this table lacks.</summary>
    public static string Describe(int errno)
    {
        errno = Math.Abs(errno);
        return $"{Name(errno)} ({Message(errno)})";
    }

    /// <summary>libc's strerror text.</summary>
    public static string Message(int errno) => errno == Errno.ENOTSUPP
        ? "Operation is not supported" // kernel-internal errno that bpf() still returns; libc has no text for it
        : Marshal.GetPInvokeErrorMessage(Math.Abs(errno));

    

    public static string Name(int errno) => Math.Abs(errno) switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        7 => "E2BIG",
        8 => "ENOEXEC",
        9 => "EBADF",
        10 => "ECHILD",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        18 => "EXDEV",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        25 => "ENOTTY",
        27 => "EFBIG",
        28 => "ENOSPC",
        29 => "ESPIPE",
        30 => "EROFS",
        32 => "EPIPE",
        34 => "ERANGE",
        36 => "ENAMETOOLONG",
        38 => "ENOSYS",
        40 => "ELOOP",
        61 => "ENODATA",
        75 => "EOVERFLOW",
        77 => "EBADFD",
        92 => "ENOPROTOOPT",
        95 => "EOPNOTSUPP",
        Errno.ENOTSUPP => "ENOTSUPP",
        var other => $"errno {other}",
    };
}
