using XdpGate.Linux.Bpf;
using Xunit;

namespace XdpGate.Testing.Kernel;

/// <summary>
/// How every kernel test decides, on any kernel a machine may have:
/// <list type="number">
/// <item>our engine must give exactly the recorded facts (the engine follows the recorded release), or the test fails;</item>
/// <item>the live kernel, when this process can ask it and it offers what the test needs, is compared with the
/// recording: a difference fails the test when the live kernel is the recorded release (the recording or the
/// test is wrong), and otherwise is reported with both releases and the test is skipped with that report;</item>
/// <item>a kernel that cannot be asked or lacks a feature skips the live part, saying why.</item>
/// </list>
/// With XDPGATE_RECORD_KERNEL=1 (tests/record-kernel) the live kernel's facts are written as the new recording
/// first, unless it lacks a feature, in which case the old recording stays.
/// </summary>
public static class KernelOracle
{
    public const string RecordVariable = "XDPGATE_RECORD_KERNEL";

    /// <summary>Differences quoted in a message; the count says how many there were.</summary>
    private const int Quoted = 40;

    public static bool Recording => Environment.GetEnvironmentVariable(RecordVariable) == "1";

    /// <summary>
    /// Checks a test whose recording is a plain fact file under tests/data (<see cref="KernelRecord"/>): records it
    /// first when recording.
    /// </summary>
    /// <param name="recordPath">Relative to tests/data, e.g. "kernel/csum-diff.txt".</param>
    /// <param name="title">The recording's first line: what was asked.</param>
    /// <param name="engine">Our engine's facts.</param>
    /// <param name="live">Asks the running kernel for the same facts; may throw <see cref="KernelFeatureMissingException"/>.</param>
    /// <param name="engineName">What gave <paramref name="engine"/>, for messages.</param>
    public static void Check(string recordPath, string title, IReadOnlyList<string> engine, Func<IReadOnlyList<string>> live, string engineName = "engine")
    {
        ArgumentNullException.ThrowIfNull(live);
        var asked = new Lazy<LiveAnswer>(() => Ask(live));
        if (Recording)
            RecordIfAnswered($"tests/data/{recordPath}", asked.Value, facts => KernelRecord.Write(recordPath, title, facts));
        if (KernelRecord.Exists(recordPath))
        {
            var recorded = KernelRecord.Load(recordPath);
            AssertEngineAgrees(recorded, engine, engineName);
            CheckLive(recorded, asked.Value);
        }
        else
        {
            CheckUnrecorded(recordPath, engine, asked.Value, engineName);
        }
    }

    /// <summary>
    /// Nothing recorded yet (a kernel that lacked the feature was the only one to record on): the live kernel is the
    /// only oracle, so the engine must agree with it; a kernel that cannot answer leaves nothing to compare.
    /// </summary>
    public static void CheckUnrecorded(string recordPath, IReadOnlyList<string> engine, LiveAnswer answer, string engineName = "engine")
    {
        var source = $"tests/data/{recordPath}";
        if (answer.Facts is null)
        {
            KernelReport.Add(source, $"not recorded, and the live kernel cannot answer: {answer.NotAsked}");
            Skip.If(true, $"{source} is not recorded, and the live kernel cannot answer: {answer.NotAsked}");
            return;
        }
        if (Differences(Comparable(answer.Facts), engine) is { } differs)
            Assert.Fail($"{source} is not recorded; our {engineName} differs from the live kernel (Linux {KernelRelease.Current}):\n{Format(differs, "live", engineName)}");
        KernelReport.Add(source, $"not recorded; the engine agrees with the live kernel (Linux {KernelRelease.Current}): record it with tests/record-kernel");
    }

    /// <summary>What the live kernel said: its facts, or why it was not asked.</summary>
    public sealed record LiveAnswer(IReadOnlyList<string>? Facts, string? NotAsked);

    /// <summary>Runs <paramref name="live"/> unless the kernel cannot be asked; a refusal by the kernel is a fact too.</summary>
    public static LiveAnswer Ask(Func<IReadOnlyList<string>> live)
    {
        ArgumentNullException.ThrowIfNull(live);
        if (KernelFeatures.WhyUnavailable is { } unavailable)
            return new LiveAnswer(null, unavailable);
        try
        {
            return new LiveAnswer(live(), null);
        }
        catch (KernelFeatureMissingException e)
        {
            return new LiveAnswer(null, e.Message);
        }
        catch (BpfSyscallException e)
        {
            return new LiveAnswer([$"the kernel refused: {e.Message.Split('\n')[0]}"], null);
        }
    }

    /// <summary>In record mode: writes the live facts with <paramref name="write"/>, or says why the old recording stays.</summary>
    public static void RecordIfAnswered(string what, LiveAnswer answer, Action<IReadOnlyList<string>> write)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(write);
        if (answer.Facts is { } facts)
            write(facts);
        else
            KernelReport.Add(what, $"not recorded on Linux {KernelRelease.Current}, the old recording stays: {answer.NotAsked}");
    }

    /// <summary>Fails when our engine's facts differ from the recording.</summary>
    public static void AssertEngineAgrees(KernelRecord recorded, IReadOnlyList<string> engine, string engineName = "engine")
    {
        ArgumentNullException.ThrowIfNull(recorded);
        ArgumentNullException.ThrowIfNull(engine);
        if (Differences(recorded.Facts, engine) is { } engineDiffers)
            Assert.Fail($"tests/data/{recorded.Path}: our {engineName} differs from what Linux {recorded.Release} answered:\n{Format(engineDiffers, "recorded", engineName)}");
    }

    /// <summary>
    /// The live kernel against the recording: skips when it was not asked, fails on a difference when it is the
    /// recorded release, and otherwise reports the difference and skips.
    /// </summary>
    public static void CheckLive(KernelRecord recorded, LiveAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        ArgumentNullException.ThrowIfNull(answer);
        var source = $"tests/data/{recorded.Path}";
        if (answer.Facts is null)
        {
            NotAsked(source, answer.NotAsked!);
            return;
        }
        if (Differences(recorded.Facts, Comparable(answer.Facts)) is { } liveDiffers)
            LiveDiffers(source, recorded.Release, Format(liveDiffers, $"recorded ({recorded.Release})", $"live ({KernelRelease.Current})"));
    }

    /// <summary>
    /// The live kernel gave something other than the recording: a failure when it is the recorded release (the
    /// recording or the test is wrong), otherwise a difference between releases, reported, and the test skipped.
    /// </summary>
    public static void LiveDiffers(string source, string recordedRelease, string differences)
    {
        var text = $"the live kernel (Linux {KernelRelease.Current}) differs from the recording (Linux {recordedRelease}): {differences}";
        if (recordedRelease == KernelRelease.Current)
            Assert.Fail($"{source}: {text}\nThe live kernel is the recorded release: the recording or the test is wrong.");
        KernelReport.Add(source, text);
        Skip.If(true, text);
    }

    /// <summary>Skips the live part of a test, saying why, and reports it.</summary>
    public static void NotAsked(string source, string reason)
    {
        KernelReport.Add(source, $"live kernel not compared: {reason}");
        Skip.If(true, $"the live kernel was not compared: {reason}");
    }

    /// <summary>Facts without the notes ('#' lines) a live run may add for the recording.</summary>
    public static IReadOnlyList<string> Comparable(IEnumerable<string> facts) => [.. facts.Where(f => !f.StartsWith('#'))];

    /// <summary>Pairs of differing facts (side by side when both lists are as long, else what only one side has), or null.</summary>
    public static IReadOnlyList<(string? Expected, string? Actual)>? Differences(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        List<(string?, string?)> differing;
        if (expected.Count == actual.Count)
        {
            differing = [.. expected.Zip(actual).Where(p => p.First != p.Second).Select(p => ((string?)p.First, (string?)p.Second))];
        }
        else
        {
            var unmatched = actual.GroupBy(a => a, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            differing = [];
            foreach (var e in expected)
            {
                if (unmatched.TryGetValue(e, out var n) && n > 0)
                    unmatched[e] = n - 1;
                else
                    differing.Add((e, null));
            }
            foreach (var a in actual)
            {
                if (unmatched[a] > 0)
                {
                    unmatched[a]--;
                    differing.Add((null, a));
                }
            }
        }
        return differing.Count == 0 ? null : differing;
    }

    public static string Format(IReadOnlyList<(string? Expected, string? Actual)> differences, string expectedName, string actualName)
    {
        ArgumentNullException.ThrowIfNull(differences);
        var lines = differences.Take(Quoted).Select(d => d switch
        {
            (null, var a) => $"  only {actualName}: {a}",
            (var e, null) => $"  only {expectedName}: {e}",
            var (e, a) => $"  {expectedName}: {e}\n  {actualName}: {a}",
        });
        var more = differences.Count > Quoted ? $"\n  ... {differences.Count - Quoted} more" : "";
        return $"{differences.Count} difference{(differences.Count == 1 ? "" : "s")}\n{string.Join('\n', lines)}{more}";
    }
}
