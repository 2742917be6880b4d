namespace XdpGate.Testing.Clang;

/// <summary>
/// The C source of an XDP program that returns VERDICT, defined in a header of its own (verdict.h), which starts out
/// as XDP_PASS: an edit of the header changes the program. Needs clang only, not libbpf.
/// </summary>
public sealed class VerdictProgram
{
    public VerdictProgram(string directory)
    {
        Header = Path.Combine(directory, "verdict.h");
        Source = Path.Combine(directory, "prog.c");
        SetVerdict(2);
        File.WriteAllText(Source, """
            #include "verdict.h"

            __attribute__((section("xdp"), used)) int prog(void *ctx) { return VERDICT; }

            char _license[] __attribute__((section("license"), used)) = "GPL";
            """);
    }

    public string Source { get; }

    public string Header { get; }

    /// <summary>Rewrites the header: the program's next build returns <paramref name="action"/> (an xdp_action).</summary>
    public void SetVerdict(int action) => File.WriteAllText(Header, $"#define VERDICT {action}\n");
}
