using System.Text.Json;
using XdpGate.Appliance.Builtins;
using XdpGate.Appliance.MapData;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf;
using XdpGate.Linux;

namespace XdpGate.Appliance.Control;

/// <summary>
/// The control protocol, one JSON object per line each way. Requests: {"cmd":"status"}, {"cmd":"stats"},
/// {"cmd":"reload"}, {"cmd":"map","args":["list"|"dump"|"lookup"|"update"|"delete", NAME, ...]}, and the serving
/// built-in's own verbs ({"cmd":"rules"} of the firewall). Responses: {"ok":true,"result":...} or
/// {"ok":false,"error":"..."}. Any request, however malformed, gets a response.
/// </summary>
public sealed class ControlRequestHandler(IApplianceControl appliance)
{
    public string Handle(string line)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            try
            {
                var (command, args) = Parse(line);
                writer.WriteStartObject();
                writer.WriteBoolean("ok", true);
                writer.WritePropertyName("result");
                appliance.Serve(() => Dispatch(writer, command, args));
                writer.WriteEndObject();
            }
            catch (Exception e) when (e is ControlRequestException or JsonException or FormatException)
            {
                return Error(e.Message);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A fault in the appliance's own code: answer, and keep serving.
                return Error($"internal error: {e.GetType().Name}: {e.Message}");
            }
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Error(string message) => JsonSerializer.Serialize(new Dictionary<string, object> { ["ok"] = false, ["error"] = message });

    private static (string Command, List<string> Args) Parse(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("cmd", out var cmd) || cmd.ValueKind != JsonValueKind.String)
            throw new ControlRequestException("a request is a JSON object with a string \"cmd\"");
        var args = new List<string>();
        if (root.TryGetProperty("args", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array || list.EnumerateArray().Any(a => a.ValueKind != JsonValueKind.String))
                throw new ControlRequestException("\"args\" must be an array of strings");
            args.AddRange(list.EnumerateArray().Select(a => a.GetString()!));
        }
        return (cmd.GetString()!, args);
    }

    private void Dispatch(Utf8JsonWriter writer, string command, List<string> args)
    {
        switch (command)
        {
            case "status":
                var status = appliance.Status();
                JsonSerializer.Serialize(writer, new { config = status.Config, program = status.Program, uptime = status.UptimeSeconds, ports = status.Ports, workers = status.Workers });
                break;
            case "stats":
                writer.WriteStartObject();
                foreach (var (name, value) in appliance.Stats())
                    writer.WriteNumber(name, value);
                writer.WriteEndObject();
                break;
            case "reload":
                if (appliance.Reload() is { } error)
                    throw new ControlRequestException($"reload failed, the running config keeps serving: {error}");
                writer.WriteStringValue("reloaded");
                break;
            case "map":
                MapCommand(writer, args);
                break;
            case var verb when appliance.BuiltinVerbs.Contains(verb):
                appliance.Answer(verb, args, writer);
                break;
            case var verb when BuiltinRegistry.All.FirstOrDefault(b => b.Verbs.Contains(verb)) is { } owner:
                throw new ControlRequestException($"'{verb}' is the built-in {owner.Name}'s; the running program is not the {owner.Name}");
            default:
                throw new ControlRequestException($"unknown command '{command}' ({string.Join(", ", ["status", "stats", .. appliance.BuiltinVerbs, "reload", "map"])})");
        }
    }

    private void MapCommand(Utf8JsonWriter writer, List<string> args)
    {
        var verb = args.Count > 0 ? args[0] : throw new ControlRequestException("map: expected list, dump, lookup, update or delete");
        if (verb == "list")
        {
            writer.WriteStartArray();
            foreach (var map in appliance.Maps.Values)
            {
                var d = map.Definition;
                JsonSerializer.Serialize(writer, new { name = d.Name, type = d.Type.ToString()["BPF_MAP_TYPE_".Length..].ToLowerInvariant(), key_size = d.KeySize, value_size = d.ValueSize, max_entries = d.MaxEntries, flags = d.Flags, percpu = map.IsPerCpu });
            }
            writer.WriteEndArray();
            return;
        }
        if (verb is not ("dump" or "lookup" or "update" or "delete"))
            throw new ControlRequestException($"map: unknown verb '{verb}' (list, dump, lookup, update, delete)");
        var name = args.Count > 1 ? args[1] : throw new ControlRequestException($"map {verb}: expected a map name");
        if (!appliance.Maps.TryGetValue(name, out var target))
            throw new ControlRequestException($"no map named '{name}' (maps: {string.Join(", ", appliance.Maps.Keys)})");
        var at = 2;
        switch (verb)
        {
            case "dump":
                writer.WriteStartArray();
                foreach (var (key, value) in target.Dump())
                    MapsJson.WriteEntry(writer, target, key, value);
                writer.WriteEndArray();
                break;
            case "lookup":
            {
                var key = MapArguments.Read(args, ref at, "key", target.KeySize, name);
                var value = new byte[target.UserValueSize];
                Check(target.Lookup(key, value), target);
                MapsJson.WriteEntry(writer, target, key, value);
                break;
            }
            case "update":
            {
                var key = MapArguments.Read(args, ref at, "key", target.KeySize, name);
                var value = MapArguments.Read(args, ref at, "value", target.IsPerCpu ? target.ValueSize : target.UserValueSize, name);
                if (target.IsPerCpu)
                    value = [.. Enumerable.Repeat(value.Concat(new byte[BpfMap.RoundUp8(target.ValueSize) - target.ValueSize]), target.PossibleCpus).SelectMany(v => v)];
                Check(target.Update(key, value, MapArguments.Flags(args, at)), target);
                writer.WriteStringValue("updated");
                break;
            }
            default:
                Check(target.Delete(MapArguments.Read(args, ref at, "key", target.KeySize, name)), target);
                writer.WriteStringValue("deleted");
                break;
        }
    }

    private static void Check(int result, BpfMap map)
    {
        if (result != 0)
            throw new ControlRequestException($"map '{map.Name}': {map.ErrorText(result)}");
    }
}
