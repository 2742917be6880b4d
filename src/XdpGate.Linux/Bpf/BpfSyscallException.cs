namespace XdpGate.Linux.Bpf;

/// <summary>bpf() failed: names the command, the errno and, for BPF_PROG_LOAD, ends with the verifier log's tail.</summary>
public sealed class BpfSyscallException : Exception
{
    public BpfSyscallException(bpf_cmd command, int errno, string? detail = null, string? verifierLog = null)
        : base(Format(command, errno, detail, verifierLog))
    {
        Command = command;
        Errno = Math.Abs(errno);
        VerifierLog = verifierLog ?? "";
    }

    public bpf_cmd Command { get; }

    /// <summary>The positive errno the kernel returned.</summary>
    public int Errno { get; }

    /// <summary>The whole verifier log of a failed BPF_PROG_LOAD (or BTF verifier log of a failed BPF_BTF_LOAD); empty for other commands.</summary>
    public string VerifierLog { get; }

    /// <summary>Lines of the verifier log the message ends with: the verifier states its reason last.</summary>
    public const int LogTailLines = 12;

    private static string Format(bpf_cmd command, int errno, string? detail, string? log)
    {
        var message = SyscallException.Describe(command.ToString(), errno, detail);
        if (!string.IsNullOrWhiteSpace(log))
        {
            var lines = log.TrimEnd('\0', '\n', ' ').Split('\n');
            var tail = lines.Length > LogTailLines ? ["...", .. lines[^LogTailLines..]] : lines;
            message += ":\n" + string.Join('\n', tail);
        }
        return message;
    }
}
