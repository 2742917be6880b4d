namespace XdpGate.Testing.Kernel;

/// <summary>
/// Where kernel tests say what they could not compare and where the live kernel differs from a recording of another
/// release: the file XDPGATE_KERNEL_REPORT names (.ci/run sets it and prints it at the end), one entry a paragraph.
/// Test processes run in parallel, so each entry is one append.
/// </summary>
public static class KernelReport
{
    public const string Variable = "XDPGATE_KERNEL_REPORT";

    private static readonly Lock Gate = new();

    public static void Add(string test, string text)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } path)
            return;
        var entry = System.Text.Encoding.UTF8.GetBytes($"{test}\n  {text.Replace("\n", "\n  ", StringComparison.Ordinal)}\n\n");
        lock (Gate)
        {
            using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            stream.Write(entry);
        }
    }
}
