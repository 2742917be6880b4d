using XdpGate.Bpf.Tests.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// The kernel is the oracle of the verifier cases: every program goes through BPF_PROG_LOAD as root and must get the
/// verdict its <c>-- kernel</c> section records, with the recorded text in the verifier log; where a case records
/// <c>-- kernel unprivileged</c>, the same holds for a loader with CAP_BPF but without CAP_PERFMON. With
/// XDPGATE_RECORD_VERIFIER=1 the sections are rewritten from the kernel instead (tests/data/verifier/record_kernel).
/// </summary>
public sealed class VerifierCorpusKernelTests(ITestOutputHelper output)
{
    private const string RecordVariable = "XDPGATE_RECORD_VERIFIER";
    private const string SlowVariable = "XDPGATE_VERIFIER_SLOW_CASES";

    /// <summary>The kernel's text for a program that exhausts its budget: it walks a million instructions first, seconds each.</summary>
    private const string ComplexityLimit = "BPF program is too large";

    public static TheoryData<string> Cases() => [.. VerifierCase.All()];

    public static TheoryData<string> CasesWithAnUnprivilegedVerdict() =>
        [.. VerifierCase.All().Where(name => VerifierCase.Load(name).KernelUnprivileged is not null)];

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void The_kernel_as_root_gives_the_recorded_verdict(string name)
    {
        KernelObject.Require();
        var testCase = VerifierCase.Load(name);
        Skip.If(testCase.Kernel.LogSubstring?.Contains(ComplexityLimit, StringComparison.Ordinal) == true && Environment.GetEnvironmentVariable(SlowVariable) != "1",
            $"the kernel takes seconds to exhaust its instruction budget: set {SlowVariable}=1");
        AssertMatches(name, "as root", testCase.Kernel, KernelVerifier.Load(testCase));
    }

    [SkippableTheory]
    [MemberData(nameof(CasesWithAnUnprivilegedVerdict))]
    public void The_kernel_without_CAP_PERFMON_gives_the_recorded_verdict(string name)
    {
        KernelObject.Require();
        var testCase = VerifierCase.Load(name);
        AssertMatches(name, "without CAP_PERFMON", testCase.KernelUnprivileged!, KernelVerifier.Load(testCase, unprivileged: true));
    }

    /// <summary>
    /// Rewrites the kernel sections of each source case file whose recorded verdict or text no longer matches the
    /// kernel (hand-shortened texts that still match are kept); the unprivileged verdict is recorded for every case
    /// the kernel accepts as root. Opt-in: it edits the tree.
    /// </summary>
    [SkippableFact]
    public void Record_the_kernel_verdicts_into_the_case_files()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable(RecordVariable) == "1", $"recording is opt-in: set {RecordVariable}=1 (tests/data/verifier/record_kernel)");
        KernelObject.Require();
        var source = SourceDirectory();
        var changed = 0;
        var malformed = new List<string>();
        foreach (var name in VerifierCase.All(source))
        {
            var path = Path.Combine(source, name + ".data");
            var text = File.ReadAllText(path);
            VerifierCase testCase;
            try
            {
                testCase = VerifierCase.Parse(name, text);
            }
            catch (InvalidDataException e)
            {
                malformed.Add(e.Message);
                continue;
            }
            var root = KernelVerifier.Load(testCase);
            var updated = Record(name, text, VerifierCase.KernelSection, testCase.Kernel, root);
            if (root.Accepted)
                updated = Record(name, updated, VerifierCase.KernelUnprivilegedSection, testCase.KernelUnprivileged, KernelVerifier.Load(testCase, unprivileged: true));
            if (updated == text)
                continue;
            File.WriteAllText(path, updated);
            changed++;
        }
        output.WriteLine($"{changed} case files rewritten");
        Assert.True(malformed.Count == 0, "malformed case files, not recorded:\n" + string.Join('\n', malformed));
    }

    private string Record(string name, string text, string section, KernelLine? recorded, KernelVerifier.Verdict kernel)
    {
        if (recorded is not null && recorded.Matches(kernel.Accepted, kernel.Log))
            return text;
        var line = KernelLine.Format(kernel.Accepted, kernel.Reason);
        output.WriteLine($"{name}: -- {section}: {line}");
        return VerifierCase.WithSection(text, section, line);
    }

    private static void AssertMatches(string name, string loader, KernelLine recorded, KernelVerifier.Verdict kernel)
    {
        if (recorded.Accepts)
            Assert.True(kernel.Accepted, $"{name}: the kernel {loader} refuses it: {kernel.Reason}\n{Tail(kernel.Log)}");
        else
            Assert.True(recorded.Matches(kernel.Accepted, kernel.Log), kernel.Accepted
                ? $"{name}: the kernel {loader} accepts it, the case expects '{recorded}'"
                : $"{name}: the kernel's log {loader} lacks '{recorded.LogSubstring}'; its reason: {kernel.Reason}\n{Tail(kernel.Log)}");
    }

    /// <summary>tests/data/verifier in the source tree: the test binary runs from a copy.</summary>
    private static string SourceDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "data", "verifier");
            if (File.Exists(Path.Combine(dir.FullName, "XdpGate.sln")) && Directory.Exists(candidate))
                return candidate;
        }
        throw new DirectoryNotFoundException($"no XdpGate.sln with tests/data/verifier above {AppContext.BaseDirectory}");
    }

    private static string Tail(string log)
    {
        var lines = log.TrimEnd().Split('\n');
        return string.Join('\n', lines[Math.Max(0, lines.Length - 15)..]);
    }
}
