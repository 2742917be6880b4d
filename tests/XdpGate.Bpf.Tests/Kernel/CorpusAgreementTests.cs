using System.Text.Json;
using XdpGate.Bpf.Elf;
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
        foreach (var packets in System.IO.Directory.GetFiles(Directory, "*.packets").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileNameWithoutExtension(packets));
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
        var obj = BpfObject.Open(Path.Combine(Directory, name + ".o"));
        using var both = new KernelAndEngine([.. obj.Maps.Select(m => m.Definition)]);
        Prepare(both, obj, name);

        var kernel = new List<string>();
        var engine = new List<string>();
        var frame = 0;
        foreach (var (program, packet) in Frames(name, obj))
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
        var obj = BpfObject.Open(Path.Combine(Directory, name + ".o"));
        using var engine = new EngineObject([.. obj.Maps.Select(m => m.Definition)], KernelObject.PossibleCpuCount, engineName);
        Prepare(engine, obj, name);
        var expected = RecordedFrames(Path.Combine(Directory, name + ".kernel.txt"));
        var actual = Frames(name, obj).Select(f =>
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

    /// <summary>The frames of NAME.packets in order, each with the program that runs it (`#! prog NAME` lines switch).</summary>
    private static IEnumerable<(string Program, byte[] Packet)> Frames(string name, BpfObject obj)
    {
        var current = obj.Programs[0].Name;
        foreach (var line in File.ReadLines(Path.Combine(Directory, name + ".packets")))
        {
            if (line.StartsWith("#! prog ", StringComparison.Ordinal))
                current = line["#! prog ".Length..].Trim();
            if (line.Length > 0 && line[0] != '#')
                yield return (current, Convert.FromHexString(line.Trim()));
        }
    }

    /// <summary>Global data, programs, initial program-array slots, then NAME.maps.json, as the corpus README says.</summary>
    private static void Prepare(IXdpSetup target, BpfObject obj, string name)
    {
        for (var i = 0; i < obj.Maps.Count; i++)
        {
            if (obj.Maps[i].Kind == ObjectMapKind.GlobalData)
                target.Update(i, new byte[4], obj.Maps[i].InitialData.ToArray());
        }
        foreach (var program in obj.Programs)
            target.Load(obj, program);
        for (var i = 0; i < obj.Maps.Count; i++)
        {
            foreach (var slot in obj.Maps[i].ProgramSlots)
                target.SetTailCall(i, slot.Index, slot.Program);
        }
        ApplyMapsJson(target, obj, Path.Combine(Directory, name + ".maps.json"));
    }

    private static void ApplyMapsJson(IXdpSetup target, BpfObject obj, string path)
    {
        if (!File.Exists(path))
            return;
        var mapIndex = obj.Maps.Select((m, i) => (m.Name, i)).ToDictionary(p => p.Name, p => p.i);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var map in document.RootElement.EnumerateObject())
        {
            var index = mapIndex[map.Name];
            var definition = obj.Maps[index].Definition;
            foreach (var entry in map.Value.EnumerateArray())
            {
                var key = Convert.FromHexString(entry.GetProperty("key").GetString()!);
                if (entry.TryGetProperty("prog", out var program))
                {
                    target.SetTailCall(index, BitConverter.ToUInt32(key), program.GetString()!);
                    continue;
                }
                var value = Convert.FromHexString(entry.GetProperty("value").GetString()!);
                target.Update(index, key, IsPerCpu(definition) ? EverySlot(value, definition) : value);
            }
        }
    }

    private static bool IsPerCpu(MapDefinition definition) => definition.Type is bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY
        or bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH;

    private static byte[] EverySlot(byte[] value, MapDefinition definition)
    {
        var stride = BpfMap.RoundUp8((int)definition.ValueSize);
        var all = new byte[stride * KernelObject.PossibleCpuCount];
        for (var cpu = 0; cpu < KernelObject.PossibleCpuCount; cpu++)
            value.CopyTo(all, cpu * stride);
        return all;
    }
}
