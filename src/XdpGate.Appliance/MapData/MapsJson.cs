using System.Text.Json;
using XdpGate.Bpf.Maps;

namespace XdpGate.Appliance.MapData;

/// <summary>
/// Writes map contents as JSON: <c>"NAME":[{"key":"HEX","value":"HEX"}]</c>, or for per-CPU maps
/// <c>{"key":"HEX","values":["HEX per CPU",...]}</c>. Program arrays and ring buffers have no contents to show.
/// </summary>
public static class MapsJson
{
    public static void Write(Utf8JsonWriter json, IEnumerable<BpfMap> maps)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(maps);
        json.WriteStartObject();
        foreach (var map in maps)
        {
            if (map is ProgArrayMap or RingBufMap)
                continue;
            json.WriteStartArray(map.Name);
            foreach (var (key, value) in map.Dump())
                WriteEntry(json, map, key, value);
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    /// <summary>One entry, <c>{"key":"HEX","value":"HEX"}</c> or with per-CPU <c>"values"</c>: as the dump and the control socket's map verbs show it.</summary>
    public static void WriteEntry(Utf8JsonWriter json, BpfMap map, byte[] key, byte[] value)
    {
        json.WriteStartObject();
        json.WriteString("key", HexBytes.Format(key));
        if (map.IsPerCpu)
        {
            json.WriteStartArray("values");
            var stride = BpfMap.RoundUp8(map.ValueSize);
            for (var cpu = 0; cpu < map.PossibleCpus; cpu++)
                json.WriteStringValue(HexBytes.Format(value.AsSpan(cpu * stride, map.ValueSize)));
            json.WriteEndArray();
        }
        else
        {
            json.WriteString("value", HexBytes.Format(value));
        }
        json.WriteEndObject();
    }
}
