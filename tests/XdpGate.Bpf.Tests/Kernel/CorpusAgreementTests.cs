using XdpGate.Bpf.Fixtures;
using XdpGate.Bpf.Maps;
using XdpGate.Linux.Bpf;
using Xunit;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// The C corpus in tests/data/programs: each object is loaded as our loader links it, once into the running kernel
/// and once into our engine, given the same map contents, and run on the same frames in order. Every verdict, every
/// output frame (metadata and packet) and every map's final contents must be identical.
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

    [SkippableTheory]
    [MemberData(nameof(Programs))]
    public void Corpus_program_gives_the_kernels_results_on_every_frame_and_map(string name)
    {
        KernelObject.Require();
        var fixture = new ObjectFixture(Directory, name);
        var obj = fixture.Object;
        using var both = new KernelAndEngine([.. obj.Maps.Select(m => m.Definition)]);
        fixture.Prepare(both, KernelObject.PossibleCpuCount);

        var kernel = new List<string>();
        var engine = new List<string>();
        var frame = 0;
        foreach (var (program, packet) in fixture.Frames())
        {
            var (k, e) = both.Run(program, packet);
            frame++;
            kernel.Add($"frame {frame} ({program}): {Describe(k)}");
            engine.Add($"frame {frame} ({program}): {Describe(e)}");
        }
        for (var i = 0; i < obj.Maps.Count; i++)
        {
            if (obj.Maps[i].Definition.Type is bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY or bpf_map_type.BPF_MAP_TYPE_RINGBUF)
                continue;
            var (k, e) = both.Dump(i);
            kernel.Add($"map {obj.Maps[i].Name}: {k}");
            engine.Add($"map {obj.Maps[i].Name}: {e}");
        }
        Assert.True(frame > 0, $"{name}.packets has no frames");
        Agreement.Compare(name, kernel, engine);
    }

    /// <summary>
    /// The engine alone against what the kernel answered when the corpus was recorded (NAME.kernel.txt, written by
    /// record_kernel.py as root): runs everywhere, without root, and covers objects the live runner cannot load.
    /// </summary>
    [Theory]
    [MemberData(nameof(ProgramsOnEngines))]
    public void Corpus_program_gives_the_recorded_kernel_results_on_every_frame(string name, string engineName)
    {
        var fixture = new ObjectFixture(Directory, name);
        using var engine = new EngineObject([.. fixture.Object.Maps.Select(m => m.Definition)], KernelObject.PossibleCpuCount, engineName);
        fixture.Prepare(engine, KernelObject.PossibleCpuCount);
        var expected = RecordedFrames(Path.Combine(Directory, name + ".kernel.txt"));
        var actual = fixture.Frames().Select(f =>
        {
            var run = engine.Run(f.Program, f.Packet);
            var meta = run.Metadata.Length == 0 ? "-" : Convert.ToHexStringLower(run.Metadata);
            return $"retval {run.Retval} meta {meta} data {Convert.ToHexStringLower(run.Packet)}";
        }).ToList();
        Agreement.Compare($"{name} (recorded, {engineName})", expected, actual);
    }

    private static List<string> RecordedFrames(string path)
    {
        var frames = new List<string>();
        string? retval = null, meta = null;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("retval ", StringComparison.Ordinal))
                retval = line.Split(' ')[1];
            else if (line.StartsWith("meta ", StringComparison.Ordinal))
                meta = line["meta ".Length..];
            else if (line.StartsWith("data ", StringComparison.Ordinal))
                frames.Add($"retval {retval} meta {meta} data {line["data ".Length..]}");
        }
        return frames;
    }

    private static string Describe(XdpRun run) =>
        $"retval {run.Retval} meta {Convert.ToHexString(run.Metadata)} packet {Convert.ToHexString(run.Packet)}{(run.Fault is null ? "" : " fault " + run.Fault)}";
}
