using System.Text.Json;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;

namespace XdpGate.Testing.Fixtures;

/// <summary>
/// A program fixture as tests/data/programs lays it out (see its README): NAME.o, the frames in NAME.packets (hex,
/// one per line; `#! prog NAME` switches the program that runs the next frames) and initial map contents in
/// NAME.maps.json. Sets the object up the same way in any <see cref="IObjectSetup"/>, kernel or engine.
/// </summary>
public sealed class ObjectFixture
{
    private readonly string directory;

    public ObjectFixture(string directory, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(name);
        this.directory = directory;
        Name = name;
        Object = BpfObject.Open(Path.Combine(directory, name + ".o"));
    }

    public string Name { get; }

    public BpfObject Object { get; }

    /// <summary>The fixture names in <paramref name="directory"/>: every object with a NAME.packets file.</summary>
    public static IReadOnlyList<string> Names(string directory) =>
        [.. Directory.GetFiles(directory, "*.packets").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).Cast<string>()];

    /// <summary>The frames in order, each with the program that runs it.</summary>
    public IEnumerable<(string Program, byte[] Packet)> Frames()
    {
        var current = Object.Programs.First(p => p.NotLoadable is null).Name;
        var path = Path.Combine(directory, Name + ".packets");
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (text.StartsWith("#! prog ", StringComparison.Ordinal))
                current = text["#! prog ".Length..].Trim();
            if (text.Length == 0 || text[0] == '#')
                continue;
            byte[] packet;
            try
            {
                packet = Convert.FromHexString(text.Trim());
            }
            catch (FormatException e)
            {
                throw new FormatException($"{path}:{line}: a frame is hex digits: {e.Message}", e);
            }
            yield return (current, packet);
        }
    }

    /// <summary>
    /// Global data (.rodata then frozen), programs, initial program-array slots, then NAME.maps.json. The programs are
    /// those XdpGate loads (a tp_btf or tc sibling stays unloaded in the kernel too: no frame runs it).
    /// </summary>
    public void Prepare(IObjectSetup target, int possibleCpus)
    {
        ArgumentNullException.ThrowIfNull(target);
        WriteGlobalData(Object, target);
        foreach (var program in Object.Programs.Where(p => p.NotLoadable is null))
            target.Load(Object, program);
        for (var i = 0; i < Object.Maps.Count; i++)
        {
            foreach (var slot in Object.Maps[i].ProgramSlots)
                target.SetTailCall(i, slot.Index, slot.Program);
        }
        ApplyMapsJson(target, possibleCpus);
    }

    /// <summary>
    /// Each global data map's initial value, with .rodata (BPF_F_RDONLY_PROG) then frozen as libbpf does before it
    /// loads programs: the verifier reads frozen read-only values as constants.
    /// </summary>
    public static void WriteGlobalData(BpfObject obj, IObjectSetup target)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(target);
        for (var i = 0; i < obj.Maps.Count; i++)
        {
            if (obj.Maps[i].Kind != ObjectMapKind.GlobalData)
                continue;
            target.Update(i, new byte[4], obj.Maps[i].InitialData.ToArray());
            if (obj.Maps[i].FrozenOnLoad)
                target.Freeze(i);
        }
    }

    private void ApplyMapsJson(IObjectSetup target, int possibleCpus)
    {
        var path = Path.Combine(directory, Name + ".maps.json");
        if (!File.Exists(path))
            return;
        var mapIndex = Object.Maps.Select((m, i) => (m.Name, i)).ToDictionary(p => p.Name, p => p.i);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var map in document.RootElement.EnumerateObject())
        {
            if (!mapIndex.TryGetValue(map.Name, out var index))
                throw new FormatException($"{path}: no map '{map.Name}' in {Name}.o");
            var definition = Object.Maps[index].Definition;
            foreach (var entry in map.Value.EnumerateArray())
            {
                var key = Convert.FromHexString(entry.GetProperty("key").GetString()!);
                if (entry.TryGetProperty("prog", out var program))
                {
                    target.SetTailCall(index, BitConverter.ToUInt32(key), program.GetString()!);
                    continue;
                }
                var value = Convert.FromHexString(entry.GetProperty("value").GetString()!);
                target.Update(index, key, IsPerCpu(definition) ? EverySlot(value, definition, possibleCpus) : value);
            }
        }
    }

    private static bool IsPerCpu(MapDefinition definition) => definition.Type is bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY
        or bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH;

    private static byte[] EverySlot(byte[] value, MapDefinition definition, int possibleCpus)
    {
        var stride = BpfMap.RoundUp8((int)definition.ValueSize);
        var all = new byte[stride * possibleCpus];
        for (var cpu = 0; cpu < possibleCpus; cpu++)
            value.CopyTo(all, cpu * stride);
        return all;
    }
}
