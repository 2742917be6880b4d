using XdpGate.Bpf.Maps;
using XdpGate.Linux.Threading;
using XdpGate.Testing.Fixtures;
using XdpGate.Testing.Kernel;
using XdpGate.Testing;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>
/// A corpus program's kernel results as facts: NAME.kernel.txt, which record_kernel.py writes with bpftool (libbpf's
/// loader, not ours, on CPU 0), read back; and the same facts from running the fixture on a target. One fact per frame
/// (program, retval, metadata, packet) and one per map entry after the last frame, as the recording lists them:
/// array entries that are all zero left out, per-CPU values by CPU with zero slots left out. Program arrays and ring
/// buffers are not compared (their recorded form is the program's pin name and the ring's byte positions).
/// </summary>
internal static class CorpusRecording
{
    /// <summary>Reads tests/data/<paramref name="relativePath"/> (programs/NAME.kernel.txt).</summary>
    public static KernelRecord Read(string relativePath)
    {
        var path = SourceTree.DataCopy(relativePath);
        var lines = File.ReadAllLines(path);
        var release = KernelRecord.ReleaseOf(lines) ?? throw new InvalidDataException($"{path} has no '{KernelRecord.ReleaseLine}RELEASE' line");
        var facts = new List<string>();
        var maps = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        string? program = null, retval = null, meta = null, map = null;
        var frame = 0;
        foreach (var line in lines)
        {
            if (line.StartsWith("#! prog ", StringComparison.Ordinal))
                program = line["#! prog ".Length..].Trim();
            else if (line.StartsWith("retval ", StringComparison.Ordinal))
                retval = line.Split(' ')[1];
            else if (line.StartsWith("meta ", StringComparison.Ordinal))
                meta = line["meta ".Length..];
            else if (line.StartsWith("data ", StringComparison.Ordinal))
                facts.Add(Frame(++frame, program, uint.Parse(retval!, System.Globalization.CultureInfo.InvariantCulture), meta!, line["data ".Length..]));
            else if (line.StartsWith("error ", StringComparison.Ordinal))
                facts.Add($"frame {++frame} ({program}): {line}");
            else if (line.StartsWith("map ", StringComparison.Ordinal))
            {
                var words = line.Split(' ');
                var type = words[Array.IndexOf(words, "type") + 1];
                map = type is "prog_array" or "ringbuf" ? null : MapName(words[1]);
                if (map is not null)
                    maps[map] = [];
            }
            else if (map is not null && line.StartsWith("  key ", StringComparison.Ordinal))
                maps[map].Add($"map {map}: {line.Trim()}");
        }
        foreach (var entries in maps.Values)
            facts.AddRange(entries.Order(StringComparer.Ordinal));
        return new KernelRecord(relativePath, release, facts);
    }

    /// <summary>Runs the fixture's frames on a prepared target and lists the same facts as the recording.</summary>
    public static List<string> Facts(ObjectFixture fixture, IXdpTarget target)
    {
        var facts = new List<string>();
        var frame = 0;
        foreach (var (program, packet) in fixture.Frames())
        {
            var run = target.Run(program, packet);
            facts.Add(Frame(++frame, program, run.Retval,
                run.Metadata.Length == 0 ? "-" : Convert.ToHexStringLower(run.Metadata), Convert.ToHexStringLower(run.Packet)));
        }
        var maps = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < target.Maps.Count; i++)
        {
            var definition = target.Maps[i];
            if (definition.Type is bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY or bpf_map_type.BPF_MAP_TYPE_RINGBUF)
                continue;
            var name = MapName(KernelObject.KernelName(definition.Name));
            maps[name] = [.. target.Dump(i).Select(e => Entry(definition, e.Key, e.Value)).OfType<string>().Select(e => $"map {name}: {e}")];
        }
        foreach (var entries in maps.Values)
            facts.AddRange(entries.Order(StringComparer.Ordinal));
        return facts;
    }

    /// <summary>Runs on the kernel from a thread pinned to CPU 0, where the recording ran, so per-CPU slots agree.</summary>
    public static T OnCpu0<T>(Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                CpuAffinity.PinCurrentThread(0);
                result = work();
            }
#pragma warning disable CA1031 // rethrown on the calling thread
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return result;
    }

    private static string Frame(int frame, string? program, uint retval, string meta, string data) =>
        $"frame {frame} ({program}): retval {retval} meta {meta} data {data}";

    /// <summary>libbpf names global data maps after the object ("xdp_flow.rodata"), we after the section (".rodata").</summary>
    private static string MapName(string name) => name.Contains('.', StringComparison.Ordinal) ? name[name.IndexOf('.', StringComparison.Ordinal)..] : name;

    private static bool IsPerCpu(bpf_map_type type) => type is bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY
        or bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH;

    private static bool IsArray(bpf_map_type type) => type is bpf_map_type.BPF_MAP_TYPE_ARRAY or bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY;

    /// <summary>One entry as record_kernel.py prints it, or null where it leaves the entry out.</summary>
    private static string? Entry(MapDefinition definition, byte[] key, byte[] value)
    {
        var keyHex = Convert.ToHexStringLower(key);
        if (!IsPerCpu(definition.Type))
            return IsArray(definition.Type) && value.All(b => b == 0) ? null : $"key {keyHex} value {Convert.ToHexStringLower(value)}";
        var stride = BpfMap.RoundUp8((int)definition.ValueSize);
        var slots = value.Chunk(stride).Select((slot, cpu) => (cpu, slot: slot[..(int)definition.ValueSize]))
            .Where(s => s.slot.Any(b => b != 0)).Select(s => $"cpu{s.cpu} {Convert.ToHexStringLower(s.slot)}").ToList();
        if (slots.Count == 0)
            return IsArray(definition.Type) ? null : $"key {keyHex} all zero";
        return $"key {keyHex} {string.Join(' ', slots)}";
    }
}
