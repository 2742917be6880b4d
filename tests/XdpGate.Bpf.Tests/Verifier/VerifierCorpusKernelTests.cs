using XdpGate.Bpf.Tests.Kernel;
using XdpGate.Testing;
using XdpGate.Testing.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// The kernel is the oracle of the verifier cases: every program goes through BPF_PROG_LOAD as root and must get the
/// verdict its <c>-- kernel</c> section records, with the recorded text in the verifier log; where a case records
/// <c>-- kernel unprivileged</c>, the same holds for a loader with CAP_BPF but without CAP_PERFMON. A kernel of another
/// release than <c>-- kernel release</c> that answers differently is reported, not failed (<see cref="KernelOracle"/>);
/// one that lacks a helper or map type the case uses is not asked. With XDPGATE_RECORD_KERNEL=1 the sections are
/// rewritten from the kernel instead (tests/record-kernel).
/// </summary>
public sealed class VerifierCorpusKernelTests(ITestOutputHelper output)
{
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
        var testCase = VerifierCase.Load(name);
        Skip.If(testCase.Kernel.LogSubstring?.Contains(ComplexityLimit, StringComparison.Ordinal) == true && Environment.GetEnvironmentVariable(SlowVariable) != "1",
            $"the kernel takes seconds to exhaust its instruction budget: set {SlowVariable}=1");
        KernelObject.Require();
        CheckLive(name, testCase, "as root", testCase.Kernel, KernelVerifier.Load(testCase));
    }

    [SkippableTheory]
    [MemberData(nameof(CasesWithAnUnprivilegedVerdict))]
    public void The_kernel_without_CAP_PERFMON_gives_the_recorded_verdict(string name)
    {
        var testCase = VerifierCase.Load(name);
        KernelObject.Require();
        CheckLive(name, testCase, "without CAP_PERFMON", testCase.KernelUnprivileged!, KernelVerifier.Load(testCase, unprivileged: true));
    }

    /// <summary>
    /// Rewrites the kernel sections of each source case file from the running kernel: a verdict or text that no longer
    /// matches is replaced (hand-shortened texts that still match are kept), the unprivileged verdict is recorded for
    /// every case the kernel accepts as root, and the release is the running kernel's. A case whose helpers or map
    /// types this kernel lacks keeps what an earlier release recorded. Opt-in: it edits the tree (tests/record-kernel).
    /// </summary>
    [SkippableFact]
    public void Record_the_kernel_verdicts_into_the_case_files()
    {
        Skip.IfNot(KernelOracle.Recording, $"recording is opt-in: set {KernelOracle.RecordVariable}=1 (tests/record-kernel)");
        KernelObject.Require();
        var source = SourceTree.Data("verifier");
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
            if (!testCase.Kernel.Matches(root.Accepted, root.Log) && WhyLacking(testCase) is { } lacking)
            {
                output.WriteLine($"{name}: kept the recording of Linux {testCase.KernelRelease}: {lacking}");
                continue;
            }
            var updated = Record(name, text, VerifierCase.KernelSection, testCase.Kernel, root);
            if (root.Accepted)
                updated = Record(name, updated, VerifierCase.KernelUnprivilegedSection, testCase.KernelUnprivileged, KernelVerifier.Load(testCase, unprivileged: true));
            updated = VerifierCase.WithSection(updated, VerifierCase.KernelReleaseSection, KernelRelease.Current);
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

    /// <summary>A helper or map type the case uses that the running kernel lacks, or null.</summary>
    private static string? WhyLacking(VerifierCase testCase) =>
        KernelFeatures.WhyLacking(testCase.Maps) ?? KernelFeatures.WhyLacking(testCase.Type, testCase.Program);

    /// <summary>
    /// A verdict other than the recorded one is explained, and not compared, when the case uses something this kernel
    /// lacks (a helper it does not give the program type); a case about such a helper matches its recording anyway.
    /// </summary>
    private static void CheckLive(string name, VerifierCase testCase, string loader, KernelLine recorded, KernelVerifier.Verdict kernel)
    {
        if (recorded.Matches(kernel.Accepted, kernel.Log))
            return;
        if (WhyLacking(testCase) is { } lacking)
            KernelOracle.NotAsked($"tests/data/verifier/{name}.data", lacking);
        var saw = kernel.Accepted ? "accepts it" : $"refuses it: {kernel.Reason}";
        KernelOracle.LiveDiffers($"tests/data/verifier/{name}.data", testCase.KernelRelease,
            $"the kernel {loader} {saw}; recorded: {recorded}" + (kernel.Accepted ? "" : $"\n{Tail(kernel.Log)}"));
    }

    private static string Tail(string log)
    {
        var lines = log.TrimEnd().Split('\n');
        return string.Join('\n', lines[Math.Max(0, lines.Length - 15)..]);
    }
}
