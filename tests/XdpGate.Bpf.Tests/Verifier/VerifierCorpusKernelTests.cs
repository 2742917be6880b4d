using XdpGate.Bpf.Tests.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// The kernel is the oracle of the verifier cases: every program goes through BPF_PROG_LOAD as root and must get the
/// verdict its <c>-- kernel</c> section records, with the recorded text in the verifier log. With
/// XDPGATE_RECORD_VERIFIER=1 the sections are rewritten from the kernel instead (tests/data/verifier/record_kernel).
/// </summary>
public sealed class VerifierCorpusKernelTests(ITestOutputHelper output)
{
    private const string RecordVariable = "XDPGATE_RECORD_VERIFIER";

    public static TheoryData<string> Cases() => [.. VerifierCase.All()];

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void The_kernel_gives_the_recorded_verdict(string name)
    {
        KernelObject.Require();
        var testCase = VerifierCase.Load(name);
        var kernel = KernelVerifier.Load(testCase);
        if (testCase.KernelAccepts)
        {
            Assert.True(kernel.Accepted, $"{name}: the kernel refuses it: {kernel.Reason}\n{Tail(kernel.Log)}");
        }
        else
        {
            Assert.False(kernel.Accepted, $"{name}: the kernel accepts it, the case expects 'refused: {testCase.KernelLogSubstring}'");
            Assert.True(kernel.Log.Contains(testCase.KernelLogSubstring!, StringComparison.Ordinal),
                $"{name}: the kernel's log lacks '{testCase.KernelLogSubstring}'; its reason: {kernel.Reason}\n{Tail(kernel.Log)}");
        }
    }

    /// <summary>
    /// Rewrites the <c>-- kernel</c> section of each source case file whose recorded verdict or text no longer
    /// matches the kernel (hand-shortened texts that still match are kept). Opt-in: it edits the tree.
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
            var kernel = KernelVerifier.Load(testCase);
            var matches = kernel.Accepted
                ? testCase.KernelAccepts
                : !testCase.KernelAccepts && kernel.Log.Contains(testCase.KernelLogSubstring!, StringComparison.Ordinal);
            if (matches)
                continue;
            var line = kernel.Accepted ? "accepted" : "refused: " + kernel.Reason;
            File.WriteAllText(path, VerifierCase.WithKernelLine(text, line));
            output.WriteLine($"{name}: {line}");
            changed++;
        }
        output.WriteLine($"{changed} case files rewritten");
        Assert.True(malformed.Count == 0, "malformed case files, not recorded:\n" + string.Join('\n', malformed));
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
