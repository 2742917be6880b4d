using System.Text.Json;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf;
using XdpGate.Linux;

namespace XdpGate.Appliance.MapData;

/// <summary>
/// Fills maps before a program first runs, from JSON:
/// <c>{"MAPNAME":[{"key":"HEX","value":"HEX"}, {"key":"HEX","prog":"PROGNAME"}]}</c>
/// (program arrays take programs by name). Every problem is reported naming the map and entry.
/// </summary>
public static class MapsInit
{
    /// <returns>How many entries each map got, by name.</returns>
    public static IReadOnlyDictionary<string, int> Apply(string json, string source, IReadOnlyDictionary<string, BpfMap> maps, IReadOnlyDictionary<string, BpfProgram> programs)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(programs);
        var written = new Dictionary<string, int>();
        using (var document = Parse(json, source))
        {
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!maps.TryGetValue(property.Name, out var map))
                    throw new FormatException($"{source}: no map named '{property.Name}' (maps: {string.Join(", ", maps.Keys)})");
                if (property.Value.ValueKind != JsonValueKind.Array)
                    throw new FormatException($"{source}: map '{property.Name}': expected an array of entries");
                var index = 0;
                foreach (var entry in property.Value.EnumerateArray())
                    ApplyEntry($"{source}: map '{map.Name}' entry {index++}", map, entry, programs);
                written[map.Name] = written.GetValueOrDefault(map.Name) + index;
            }
        }
        return written;
    }

    /// <summary>The names of the maps <paramref name="json"/> fills.</summary>
    public static IReadOnlyList<string> MapNames(string json, string source)
    {
        using var document = Parse(json, source);
        return [.. document.RootElement.EnumerateObject().Select(p => p.Name)];
    }

    private static JsonDocument Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not valid JSON: {e.Message}");
        }
        if (document.RootElement.ValueKind == JsonValueKind.Object)
            return document;
        document.Dispose();
        throw new FormatException($"{source}: expected an object of map names");
    }

    private static void ApplyEntry(string where, BpfMap map, JsonElement entry, IReadOnlyDictionary<string, BpfProgram> programs)
    {
        if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("key", out var keyText))
            throw new FormatException($"{where}: expected {{\"key\":\"HEX\",\"value\":\"HEX\"}} or {{\"key\":\"HEX\",\"prog\":\"NAME\"}}");
        var key = HexBytes.Parse(keyText.GetString(), $"{where}: key");
        if (key.Length != map.KeySize)
            throw new FormatException($"{where}: key is {key.Length} bytes, the map's key_size is {map.KeySize}");

        int result;
        if (entry.TryGetProperty("prog", out var programName))
        {
            if (map is not ProgArrayMap programArray)
                throw new FormatException($"{where}: \"prog\" entries are for program arrays; '{map.Name}' is {map.Type}");
            var name = programName.GetString() ?? "";
            if (!programs.TryGetValue(name, out var program))
                throw new FormatException($"{where}: no program named '{name}' (programs: {string.Join(", ", programs.Keys)})");
            result = programArray.SetProgram(BitConverter.ToUInt32(key), program);
        }
        else if (entry.TryGetProperty("value", out var valueText))
        {
            var value = HexBytes.Parse(valueText.GetString(), $"{where}: value");
            if (map.IsPerCpu && value.Length == map.ValueSize)
                value = Replicate(value, map);
            if (value.Length != map.UserValueSize)
                throw new FormatException($"{where}: value is {value.Length} bytes, the map's value_size is {map.ValueSize}");
            result = map.Update(key, value);
        }
        else
        {
            throw new FormatException($"{where}: needs \"value\" or \"prog\"");
        }
        if (result != 0)
            throw new FormatException($"{where}: update failed: {map.ErrorText(result)}");
    }

    /// <summary>A per-CPU map given one value gets it in every CPU's slot, as the convenient reading of a single value.</summary>
    private static byte[] Replicate(byte[] value, BpfMap map)
    {
        var stride = BpfMap.RoundUp8(map.ValueSize);
        var all = new byte[map.UserValueSize];
        for (var cpu = 0; cpu < map.PossibleCpus; cpu++)
            value.CopyTo(all, cpu * stride);
        return all;
    }
}
