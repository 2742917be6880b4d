using XdpGate.Uapi;


namespace XdpGate.Linux;

/// <summary>A system call refused: names the call, what it was asked to do, and the errno.</summary>
public class SyscallException : Exception
{
    public SyscallException(string call, int errno, string? detail = null, string? kernelMessage = null)
        : base(Format(call, errno, detail, kernelMessage))
    {
        Call = call;
        Errno = Math.Abs(errno);
        KernelMessage = kernelMessage ?? "";
    }

    /// <summary>The call, e.g. "setsockopt(PACKET_RX_RING)".</summary>
    public string Call { get; }

    /// <summary>The positive errno.</summary>
    public int Errno { get; }

    /// <summary>The kernel's own words when it gave some (netlink extended ack); empty otherwise.</summary>
    public string KernelMessage { get; }

    /// <summary>Throws for the current errno when <paramref name="result"/> is negative; returns it otherwise.</summary>
    public static int Check(int result, string call, string? detail = null) =>
        result < 0 ? throw new SyscallException(call, Tmds.Linux.LibC.errno, detail) : result;

    /// <summary>"call: errno text: detail", the start of every failed call's message here and in BpfSyscallException.</summary>
    internal static string Describe(string call, int errno, string? detail) =>
        string.IsNullOrEmpty(detail) ? $"{call}: {ErrnoText.Describe(errno)}" : $"{call}: {ErrnoText.Describe(errno)}: {detail}";

    private static string Format(string call, int errno, string? detail, string? kernelMessage)
    {
        var message = Describe(call, errno, detail);
        if (!string.IsNullOrEmpty(kernelMessage))
            message += $" (kernel: {kernelMessage})";
        return message;
    }
}
