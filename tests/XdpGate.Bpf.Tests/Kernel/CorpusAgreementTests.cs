using XdpGate.Bpf.Maps;
using XdpGate.Testing.Fixtures;
using XdpGate.Testing.Kernel;
using Xunit;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// The C corpus in tests/data/programs: each object, given the same map contents and run on the same frames in order,
/// must give every verdict, output frame (metadata and packet) and final map entry that the kernel gave when
/// NAME.kernel.txt was recorded, in both engines; the live kernel is compared with that recording too
/// (<see cref="KernelOracle"/>).
/// </summary>
public sealed class CorpusAgreementTests
{
    private static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "data", "programs");

    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (var name in ObjectFixture.Names(Directory))
            data.Add(name);
        return data;
    }

    public static TheoryData<string, string> ProgramsOnEngines()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in Programs())
        {
            foreach (var engine in Engines.Names)
                data.Add(name, engine);
        }
        return data;
    }

    [Fact]
    public void The_corpus_covers_every_program_with_frames() => Assert.True(Programs().Count >= 16);

    /// <summary>The engine against NAME.kernel.txt, what the kernel answered when record_kernel.py ran it with libbpf's loader.</summary>
    [Theory]
    [MemberData(nameof(ProgramsOnEngines))]
    public void Corpus_program_gives_the_recorded_kernel_results_on_every_frame_and_map(string name, string engineName)
    {
        var fixture = new ObjectFixture(Directory, name);
        using var engine = new EngineObject(Definitions(fixture), KernelObject.PossibleCpuCount, engineName);
        fixture.Prepare(engine, KernelObject.PossibleCpuCount);
        KernelOracle.AssertEngineAgrees(Recording(name), CorpusRecording.Facts(fixture, engine), engineName);
    }

    /// <summary>The live kernel, given the object by our loader, against the same recording.</summary>
    [SkippableTheory]
    [MemberData(nameof(Programs))]
    public void The_live_kernel_gives_the_recorded_results_on_every_frame_and_map(string name)
    {
        var fixture = new ObjectFixture(Directory, name);
        KernelOracle.CheckLive(Recording(name), KernelOracle.Ask(() => CorpusRecording.OnCpu0(() =>
        {
            using var kernel = new KernelObject(Definitions(fixture));
            fixture.Prepare(kernel, KernelObject.PossibleCpuCount);
            return CorpusRecording.Facts(fixture, kernel);
        })));
    }

    private static KernelRecord Recording(string name) => CorpusRecording.Read(Path.Combine("programs", name + ".kernel.txt"));

    private static MapDefinition[] Definitions(ObjectFixture fixture) => [.. fixture.Object.Maps.Select(m => m.Definition)];
}
