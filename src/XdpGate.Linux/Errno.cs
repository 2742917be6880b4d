namespace XdpGate.Linux;

/// <summary>The errno values that code here decides on (asm-generic numbers, shared by x86_64 and arm64).</summary>
#pragma warning disable CA1707 // kernel names kept exactly
public static class Errno
{
    public const int ENOENT = 2;
    public const int EAGAIN = 11;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENOBUFS = 105;
    public const int EOPNOTSUPP = 95;
}
#pragma warning restore CA1707
