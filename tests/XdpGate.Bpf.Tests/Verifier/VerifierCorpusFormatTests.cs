using System.Text.RegularExpressions;
using Xunit;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// The verifier case files are well formed without a kernel: they parse and assemble, name a known rule, and their
/// verdict is consistent with the kernel's recorded one (the kernel as root refuses exactly the default-level refusals),
/// which names the release that gave it.
/// </summary>
public sealed partial class VerifierCorpusFormatTests
{
    /// <summary>The VerifierRule names of the shared contract (briefs/verifier-rules.md), in kebab-case.</summary>
    public static readonly string[] Rules =
    [
        "jump-out-of-range", "jump-into-lddw", "unreachable-instruction", "falls-off-end", "infinite-loop", "complexity-limit",
        "call-depth", "stack-too-large", "uninitialized-register", "frame-pointer-write", "invalid-packet-access",
        "invalid-map-value-access", "possibly-null-pointer", "invalid-stack-access", "uninitialized-stack-read",
        "scalar-dereference", "invalid-context-access", "pointer-arithmetic", "pointer-comparison", "pointer-leak",
        "helper-argument", "wrong-map-type", "invalid-return-value",
        // Proposed additions (kernel refusals the contract has no name for), pending the lead's word.
        "unreleased-reference", "unknown-helper", "invalid-instruction",
    ];

    public static TheoryData<string> Cases() => [.. VerifierCase.All()];

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_case_is_well_formed(string name)
    {
        var testCase = VerifierCase.Load(name);
        Assert.Matches(SentenceName(), name[(name.IndexOf('/') + 1)..]);
        Assert.Matches(Release(), testCase.KernelRelease);
        Assert.NotEmpty(testCase.Program);
        if (testCase.Rule is { } rule)
            Assert.True(Rules.Contains(rule), $"{name}: rule '{rule}' is not one of: {string.Join(", ", Rules)}");
        Assert.True(testCase.Kernel.Accepts == (testCase.Verdict != VerifierVerdict.RefusedDefault),
            $"{name}: verdict {testCase.Verdict} but the kernel as root {(testCase.Kernel.Accepts ? "accepts" : "refuses")} it");
        // Strict adds the kernel's rules for loaders without CAP_PERFMON, so the kernel refuses those loaders what strict refuses.
        if (testCase.Verdict == VerifierVerdict.RefusedStrict)
            Assert.True(testCase.KernelUnprivileged is { Accepts: false }, $"{name}: refused strict, but no unprivileged kernel refusal is recorded");
        if (name.StartsWith("hostile/", StringComparison.Ordinal))
            Assert.NotEqual(VerifierVerdict.Accepted, testCase.Verdict);
        if (name.StartsWith("accepted/", StringComparison.Ordinal))
            Assert.Equal(VerifierVerdict.Accepted, testCase.Verdict);
    }

    [Fact]
    public void The_corpus_has_at_least_80_hostile_and_20_accepted_programs()
    {
        var all = VerifierCase.All().ToArray();
        Assert.True(all.Count(n => n.StartsWith("hostile/", StringComparison.Ordinal)) >= 80, "fewer than 80 hostile cases");
        Assert.True(all.Count(n => n.StartsWith("accepted/", StringComparison.Ordinal)) >= 20, "fewer than 20 accepted cases");
    }

    [Fact]
    public void A_malformed_case_is_refused_with_a_message_naming_it()
    {
        const string good = "# r0 is never set.\n-- asm\nexit\n-- verdict\nrefused default\n-- rule\nuninitialized-register\n-- kernel\nrefused: R0 !read_ok\n-- kernel release\n6.18.44-fc-v1300\n";
        Assert.Equal("uninitialized-register", VerifierCase.Parse("x", good).Rule);
        Assert.Equal("6.18.44-fc-v1300", VerifierCase.Parse("x", good).KernelRelease);
        Assert.Contains("-- kernel release needs exactly one line", Refusal(good.Replace("-- kernel release\n6.18.44-fc-v1300\n", "", StringComparison.Ordinal)));
        Assert.Contains("verdict 'refused'", Refusal(good.Replace("refused default", "refused", StringComparison.Ordinal)));
        Assert.Contains("needs a -- rule", Refusal(good.Replace("-- rule\nuninitialized-register\n", "", StringComparison.Ordinal)));
        Assert.Contains("kernel line", Refusal(good.Replace("refused: R0", "refused R0", StringComparison.Ordinal)));
        Assert.Contains("does not assemble", Refusal(good.Replace("exit\n-- verdict", "r11 = 1\n-- verdict", StringComparison.Ordinal)));
        Assert.Contains("unknown section", Refusal(good + "-- result\n0\n"));
        Assert.Equal(new KernelLine(false, "R0 leaks addr"), VerifierCase.Parse("x", good + "-- kernel unprivileged\nrefused: R0 leaks addr\n").KernelUnprivileged);
        Assert.Contains("no '#' comment", Refusal(good[good.IndexOf('-', StringComparison.Ordinal)..]));
    }

    [Fact]
    public void Map_data_lines_name_a_map_and_give_whole_values_or_are_refused()
    {
        const string good = "# knob.\n-- maps\nknobs array 4 4 1 0x80\n-- map data\nknobs 01000000 frozen\n-- asm\nr0 = 0\nexit\n-- verdict\naccepted\n-- kernel\naccepted\n-- kernel release\n6.18.44-fc-v1300\n";
        Assert.Equal(new byte[] { 1, 0, 0, 0 }, VerifierCase.Parse("x", good).Data.Single().Value);
        Assert.True(VerifierCase.Parse("x", good).Data.Single().Frozen);
        Assert.Equal(new MapData(0, null, true), VerifierCase.Parse("x", good.Replace("knobs 01000000 frozen", "knobs frozen", StringComparison.Ordinal)).Data.Single());
        Assert.Contains("names no map", Refusal(good.Replace("knobs 01000000", "flags 01000000", StringComparison.Ordinal)));
        Assert.Contains("value_size 4", Refusal(good.Replace("01000000", "0100", StringComparison.Ordinal)));
        Assert.Contains("not hex", Refusal(good.Replace("01000000", "zz000000", StringComparison.Ordinal)));
        Assert.Contains("expected NAME [HEX] [frozen]", Refusal(good.Replace("knobs 01000000 frozen", "knobs", StringComparison.Ordinal)));
    }

    [Fact]
    public void Recording_replaces_only_the_kernel_section()
    {
        const string text = "# c\n-- asm\nexit\n-- kernel\nrefused: old\n-- verdict\nrefused default\n";
        Assert.Equal("# c\n-- asm\nexit\n-- kernel\naccepted\n-- verdict\nrefused default\n", VerifierCase.WithSection(text, "kernel", "accepted"));
        Assert.Equal("# c\n-- asm\nexit\n-- kernel unprivileged\nrefused: R0 !read_ok\n", VerifierCase.WithSection("# c\n-- asm\nexit\n", "kernel unprivileged", "refused: R0 !read_ok"));
    }

    [Fact]
    public void The_error_line_is_the_first_line_without_the_statistics()
    {
        Assert.Equal("R0 !read_ok", KernelVerifier.ErrorLine("R0 !read_ok\nverification time 5 usec\nstack depth 0\nprocessed 1 insns (limit 1000000) max_states_per_insn 0\n"));
        Assert.Equal("expected prog array map for tail call",
            KernelVerifier.ErrorLine("expected prog array map for tail callverification time 10 usec\nstack depth 0\nprocessed 3 insns (limit 1000000)\n"));
        Assert.Equal("infinite loop detected at insn 2", KernelVerifier.ErrorLine("infinite loop detected at insn 2\ncur state: R0=scalar()\nold state: R0=scalar()\n"));
    }

    [Fact]
    public void The_reason_in_a_whole_log_is_its_last_line_before_the_statistics()
    {
        Assert.Equal("R2 invalid mem access 'scalar'", KernelVerifier.Reason(
            "0: R1=ctx() R10=fp0\n0: (61) r0 = *(u32 *)(r2 +0)\nR2 invalid mem access 'scalar'\nprocessed 1 insns (limit 1000000) max_states_per_insn 0\n"));
        Assert.Equal("R0 !read_ok", KernelVerifier.Reason("R0 !read_ok\nverification time 5 usec\nstack depth 0\nprocessed 1 insns (limit 1000000)\n"));
        Assert.Equal("expected prog array map for tail call", KernelVerifier.Reason("expected prog array map for tail callverification time 10 usec\nstack depth 0\n"));
    }

    private static string Refusal(string text) => Assert.Throws<InvalidDataException>(() => VerifierCase.Parse("x", text)).Message;

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+){3,}$")]
    private static partial Regex SentenceName();

    /// <summary>uname -r: a version, then whatever the build appends.</summary>
    [GeneratedRegex(@"^\d+\.\d+(\.\d+)?\S*$")]
    private static partial Regex Release();
}
