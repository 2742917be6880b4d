namespace XdpGate.Cli;

/// <summary>The streams a command reads and writes, so commands run the same in a terminal and in tests.</summary>
public sealed record CliIo(TextReader In, TextWriter Out, TextWriter Error);

/// <summary>Exit statuses scripts can rely on.</summary>
public static class ExitCode
{
    public const int Success = 0;
    /// <summary>The input (program, object, data) was refused or the run failed.</summary>
    public const int Failure = 1;
    /// <summary>The command line itself was wrong.</summary>
    public const int Usage = 2;
}
